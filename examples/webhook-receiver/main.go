// Command webhook-receiver is a sample receiver of incasso's webhooks: it verifies each
// delivery's signature (package standardwebhooks), answers 401 to a forged or stale one,
// skips a webhook-id it has seen (deliveries are at least once) and prints the event.
//
//	WEBHOOK_SECRET=whsec_... go run ./examples/webhook-receiver -addr 127.0.0.1:9000
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"

	"incasso/examples/webhook-receiver/standardwebhooks"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9000", "where to listen")
	flag.Parse()
	v, err := standardwebhooks.NewVerifier(os.Getenv("WEBHOOK_SECRET"))
	if err != nil {
		log.Fatalf("WEBHOOK_SECRET: %v", err)
	}
	log.Printf("listening on %s", *addr)
	log.Fatal(http.ListenAndServe(*addr, Handler(v, func(id string, body []byte) { fmt.Printf("%s %s\n", id, body) })))
}
