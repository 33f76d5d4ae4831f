package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"time"

	"incasso/devstack/specs"
	"incasso/domain/date"
	"incasso/domain/money"
	"incasso/domain/sepa"
	"incasso/domain/sepa/pain008"
	"incasso/domain/target2"
)

// benchPain008 writes a pain.008.001.08 collection file of n synthetic transactions to a
// temporary file through pain008.Writer, the totals declared first as an SQL aggregate would
// give them, and prints one line: the time taken, the file's size and the peak memory, both
// the Go heap (HeapInuse sampled every 20 ms) and the process's maximum resident set
// (getrusage ru_maxrss, after resetting the high-water mark through /proc/self/clear_refs, so
// on Linux it is the peak of the writing alone). It then validates the file
// against the XSD with xmllint --stream, when xmllint is installed, prints the time that
// took, and removes the file.
func benchPain008(out io.Writer, n int) error {
	f, err := os.CreateTemp("", "incassobench-*.pain008.xml")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()

	gen := newCollection(n)
	runtime.GC()
	resetPeakRSS()
	peakHeap := sampleHeap()
	start := time.Now()
	err = gen.write(f)
	took := time.Since(start)
	heap := peakHeap()
	var ru syscall.Rusage
	if err == nil {
		err = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	}
	if err != nil {
		return fmt.Errorf("write pain.008: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "pain.008.001.08: %s transactions in %d payment informations written in %s (%s), %.1f MB; peak memory: Go heap %.1f MB (HeapInuse sampled every 20 ms), process %d MB (max RSS, getrusage)\n",
		thousands(int64(n)), len(gen.batches), secs(took), perSec(n, took, "tx"), float64(st.Size())/1e6, float64(heap)/(1<<20), ru.Maxrss/1024)

	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		fmt.Fprintln(out, "  not validated: xmllint is not installed (Debian libxml2-utils)")
		return nil
	}
	xsd, err := specs.SchemaFile("sepa", "pain.008.001.08.xsd")
	if err != nil {
		return err
	}
	start = time.Now()
	if msg, err := exec.Command(xmllint, "--noout", "--nonet", "--stream", "--schema", xsd, f.Name()).CombinedOutput(); err != nil {
		return fmt.Errorf("xmllint: %v: %.2000s", err, msg)
	}
	fmt.Fprintf(out, "  xmllint --stream --schema pain.008.001.08.xsd: valid, in %s\n", secs(time.Since(start)))
	return nil
}

// collection describes a synthetic collection file: a FRST payment information of a fifth
// of the transactions and a RCUR one of the rest (a single one for fewer than 5), each
// transaction made from its number alone.
type collection struct {
	n       int
	batches []pain008.PaymentInfo
	created time.Time
}

func newCollection(n int) collection {
	c := collection{n: n, created: time.Now()}
	due := target2.NextBusinessDay(date.InRome(c.created.AddDate(0, 0, 14)))
	first := n / 5
	for _, b := range []struct {
		seq      string
		from, to int
	}{{"FRST", 0, first}, {"RCUR", first, n}} {
		if b.from == b.to {
			continue
		}
		pi := pain008.PaymentInfo{
			ID: "BENCH-" + b.seq, SequenceType: b.seq, CollectionDate: due,
			CreditorName: "Comune di Forlì", CreditorIBAN: "IT60X0542811101000000123456",
			CreditorBIC: "BPMOIT22XXX", CreditorID: "IT85ZZZ0000080016350821",
		}
		for i := b.from; i < b.to; i++ { // what SELECT count(*), sum(amount) would give
			pi.NbOfTxs++
			pi.CtrlSum += benchAmount(i)
		}
		c.batches = append(c.batches, pi)
	}
	return c
}

func (c collection) write(w io.Writer) error {
	h := pain008.GroupHeader{MsgID: "BENCH-" + c.created.Format("20060102150405"), Created: c.created, InitiatingParty: "Comune di Forlì"}
	for _, pi := range c.batches {
		h.NbOfTxs += pi.NbOfTxs
		h.CtrlSum += pi.CtrlSum
	}
	pw, err := pain008.NewWriter(w, pain008.V08, h)
	if err != nil {
		return err
	}
	i := 0
	for _, pi := range c.batches {
		if err := pw.StartPaymentInfo(pi); err != nil {
			return err
		}
		for end := i + pi.NbOfTxs; i < end; i++ {
			tx, err := benchTransaction(i)
			if err == nil {
				err = pw.Add(tx)
			}
			if err != nil {
				return err
			}
		}
	}
	return pw.Close()
}

func benchAmount(i int) money.Cents { return money.Cents(1000 + i*7919%200_000) }

var (
	benchNames = []string{
		"Niccolò D'Amico", "Maria Grazia Lo Russo", "Giuseppe Esposito", "Anna Maria Ferrà",
		"Luca Bianchi", "Francesca Romano", "Società Agricola Sant’Anna s.s.", "Città Nuova S.r.l.",
	}
	benchBICs = []string{"UNCRITMMXXX", "BCITITMM", "", "BPMOIT22XXX", ""}
	benchABIs = []int{2008, 3069, 5034, 1030, 5387, 3032}
)

// benchTransaction is the i-th transaction of a collection: distinct EndToEndId and
// mandate, a valid Italian IBAN (CIN and check digits computed).
func benchTransaction(i int) (pain008.Transaction, error) {
	r := rand.New(rand.NewPCG(uint64(i), 2026))
	iban, err := sepa.ItalianIBAN(fmt.Sprintf("%05d", benchABIs[r.IntN(len(benchABIs))]), fmt.Sprintf("%05d", r.IntN(100_000)), fmt.Sprintf("%012d", r.Int64N(1e12)))
	return pain008.Transaction{
		EndToEndID:     fmt.Sprintf("BENCH-%08d-R1", i),
		Amount:         benchAmount(i),
		MandateID:      fmt.Sprintf("MND-%08d", i),
		MandateSigned:  date.Date{Year: 2020, Month: time.Month(1 + i%12), Day: 1 + i%28},
		DebtorName:     benchNames[i%len(benchNames)],
		DebtorIBAN:     iban,
		DebtorBIC:      benchBICs[i%len(benchBICs)],
		RemittanceInfo: fmt.Sprintf("TARI 2026 - rata %d di 2 - avviso n. 3020%014d", 1+i%2, i),
	}, err
}
