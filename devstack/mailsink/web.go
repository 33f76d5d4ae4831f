package mailsink

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Handler serves the web UI and the JSON API:
//
//	GET    /                    HTML list of messages, newest first
//	GET    /messages/{id}       HTML view: headers, text body, attachments
//	GET    /messages/{id}.eml   the raw message, as message/rfc822
//	GET    /api/messages        JSON array of {id, from, to, subject, received, size}, oldest first
//	DELETE /api/messages        forget all messages
//
// Links are relative, so the handler can be mounted under a prefix with
// http.StripPrefix.
func (s *Sink) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.serveList)
	mux.HandleFunc("GET /messages/{id}", s.serveMessage)
	mux.HandleFunc("GET /api/messages", s.serveAPIList)
	mux.HandleFunc("DELETE /api/messages", func(w http.ResponseWriter, r *http.Request) {
		s.clear()
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

func (s *Sink) serveList(w http.ResponseWriter, r *http.Request) {
	msgs := s.Messages()
	slices.Reverse(msgs)
	render(w, listTmpl, msgs)
}

func (s *Sink) serveMessage(w http.ResponseWriter, r *http.Request) {
	idText, eml := strings.CutSuffix(r.PathValue("id"), ".eml")
	id, err := strconv.Atoi(idText)
	m, ok := s.message(id)
	if err != nil || !ok {
		http.NotFound(w, r)
		return
	}
	if eml {
		w.Header().Set("Content-Type", "message/rfc822")
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=message-%d.eml", m.ID))
		_, _ = w.Write(m.Raw)
		return
	}
	render(w, messageTmpl, parse(m))
}

func (s *Sink) serveAPIList(w http.ResponseWriter, r *http.Request) {
	type apiMessage struct {
		ID       int       `json:"id"`
		From     string    `json:"from"`
		To       []string  `json:"to"`
		Subject  string    `json:"subject"`
		Received time.Time `json:"received"`
		Size     int       `json:"size"`
	}
	list := []apiMessage{}
	for _, m := range s.Messages() {
		list = append(list, apiMessage{m.ID, m.From, m.To, m.Subject, m.Received, len(m.Raw)})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(list)
}

func render(w http.ResponseWriter, t *template.Template, data any) {
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = b.WriteTo(w)
}

// detail is a message taken apart for display.
type detail struct {
	Message
	Headers     []headerField
	Text        string
	Attachments []attachment
	Problem     string // why the message could not be parsed, if it could not
}

type headerField struct{ Name, Value string }

type attachment struct {
	Filename, ContentType string
	Size                  int
}

func parse(m Message) detail {
	d := detail{Message: m}
	msg, err := mail.ReadMessage(bytes.NewReader(m.Raw))
	if err != nil {
		d.Problem = err.Error()
		return d
	}
	for _, name := range slices.Sorted(maps.Keys(msg.Header)) {
		for _, v := range msg.Header[name] {
			d.Headers = append(d.Headers, headerField{name, decodeHeader(v)})
		}
	}
	d.walk(msg.Header, msg.Body, 0)
	return d
}

// walk collects the first text/plain part as the text and every other leaf
// part as an attachment.
func (d *detail) walk(h interface{ Get(string) string }, body io.Reader, depth int) {
	mediaType, params, _ := mime.ParseMediaType(h.Get("Content-Type"))
	if mediaType == "" {
		mediaType = "text/plain"
	}
	if strings.HasPrefix(mediaType, "multipart/") && depth < 10 {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart() // decodes quoted-printable by itself
			if err != nil {
				if err != io.EOF {
					d.Problem = err.Error()
				}
				return
			}
			d.walk(p.Header, p, depth+1)
		}
	}
	switch strings.ToLower(h.Get("Content-Transfer-Encoding")) {
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	}
	data, err := io.ReadAll(body)
	if err != nil {
		d.Problem = err.Error()
	}
	disposition, dparams, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
	if mediaType == "text/plain" && disposition != "attachment" && d.Text == "" {
		d.Text = string(data)
		return
	}
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	d.Attachments = append(d.Attachments, attachment{decodeHeader(name), mediaType, len(data)})
}

const style = `<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}
td,th{border-bottom:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}
pre{background:#f6f6f6;padding:1em;white-space:pre-wrap}</style>`

var listTmpl = template.Must(template.New("list").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mailsink</title>` + style + `</head><body>
<h1>mailsink</h1>
<p>{{len .}} message(s). <button onclick="fetch('api/messages',{method:'DELETE'}).then(()=>location.reload())">Clear</button></p>
<table><tr><th>#</th><th>Received</th><th>From</th><th>To</th><th>Subject</th><th>Size</th><th></th></tr>
{{range .}}<tr><td>{{.ID}}</td><td>{{.Received.Format "2006-01-02 15:04:05"}}</td><td>{{.From}}</td>
<td>{{range $i, $to := .To}}{{if $i}}, {{end}}{{$to}}{{end}}</td>
<td><a href="messages/{{.ID}}">{{or .Subject "(no subject)"}}</a></td><td>{{len .Raw}}</td>
<td><a href="messages/{{.ID}}.eml">.eml</a></td></tr>
{{end}}</table></body></html>`))

var messageTmpl = template.Must(template.New("message").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Subject}}</title>` + style + `</head><body>
<p><a href="../">&larr; all messages</a> · <a href="{{.ID}}.eml">download .eml</a></p>
<h1>{{or .Subject "(no subject)"}}</h1>
{{with .Problem}}<p><strong>Could not parse the whole message:</strong> {{.}}</p>{{end}}
<table>
<tr><th>Envelope from</th><td>{{.From}}</td></tr>
<tr><th>Envelope to</th><td>{{range $i, $to := .To}}{{if $i}}, {{end}}{{$to}}{{end}}</td></tr>
<tr><th>Received</th><td>{{.Received.Format "2006-01-02 15:04:05"}}</td></tr>
{{range .Headers}}<tr><th>{{.Name}}</th><td>{{.Value}}</td></tr>
{{end}}</table>
<h2>Text</h2><pre>{{.Text}}</pre>
{{with .Attachments}}<h2>Attachments</h2><ul>
{{range .}}<li>{{or .Filename "(unnamed)"}} — {{.ContentType}}, {{.Size}} bytes</li>
{{end}}</ul>{{end}}
</body></html>`))
