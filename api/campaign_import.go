package api

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"incasso/domain/date"
	"incasso/services/campaigns"
)

// maxCampaignBytes is the body limit of POST /v1/campaigns, instead of the API's 2M: a file of
// 100,000 rows takes about 15 MB.
const maxCampaignBytes = 64 << 20

// ownBodyLimit tells the API-wide body limit to skip the routes that set their own.
func ownBodyLimit(c echo.Context) bool {
	return c.Request().Method == http.MethodPost && c.Path() == "/v1/campaigns"
}

// CampaignImport is the answer of POST /v1/campaigns: what the import found, and the
// campaign's id when it stored one.
type CampaignImport struct {
	CampaignID   int64              `json:"campaignId,omitempty"`
	Rows         int                `json:"rows"`         // data rows in the file
	ValidRows    int                `json:"validRows"`    // stored
	RejectedRows int                `json:"rejectedRows"` // with at least one error
	Errors       []CampaignRowError `json:"errors"`       // the first 1000, by row
	TotalErrors  int                `json:"totalErrors"`
	Links        map[string]string  `json:"links,omitempty"`
}

// CampaignRowError is a problem with a row of a campaign file. Row is the line in a CSV file
// (the header is 1) or the element's position from 1 in a JSON array; Column is the CSV
// header name or the JSON field path, empty for the row as a whole.
type CampaignRowError struct {
	Row     int    `json:"row"`
	Column  string `json:"column"`
	Message string `json:"message"`
}

// CampaignImportProblem is the 422 of a refused file: a problem detail with the report.
type CampaignImportProblem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	CampaignImport
}

func campaignImportOf(res campaigns.Result) CampaignImport {
	out := CampaignImport{
		CampaignID: res.CampaignID, Rows: res.Rows, ValidRows: res.Valid, RejectedRows: res.Rejected,
		TotalErrors: res.TotalErrors, Errors: make([]CampaignRowError, len(res.Errors)),
	}
	for i, e := range res.Errors {
		out.Errors[i] = CampaignRowError(e)
	}
	return out
}

// importCampaign is POST /v1/campaigns?name=...&validOnly=true|false[&filename=...]: the body
// is the file (Content-Type text/csv or application/json), or a multipart/form-data form with
// the fields name and validOnly before the file in field "file". The file is read as it
// arrives, never held whole.
func (s *Server) importCampaign(c echo.Context) error {
	req := c.Request()
	if req.ContentLength > maxCampaignBytes {
		return tooLarge()
	}
	req.Body = http.MaxBytesReader(c.Response(), req.Body, maxCampaignBytes)

	q := c.QueryParams()
	opts := campaigns.Options{Name: q.Get("name"), Filename: cleanFilename(q.Get("filename")), Today: date.InRome(s.Now())}
	opts.CreatedBy = principalOf(c).Actor()
	var err error
	if opts.ValidOnly, err = parseValidOnly(q.Get("validOnly")); err != nil {
		return err
	}
	mediaType, params, err := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
	if err != nil {
		return unsupportedMedia()
	}
	if mediaType == echo.MIMEMultipartForm {
		return s.importCampaignForm(c, params["boundary"], opts)
	}
	format, err := campaignFormat(mediaType, params, "")
	if err != nil {
		return err
	}
	if opts.Filename == "" {
		if _, p, err := mime.ParseMediaType(req.Header.Get(echo.HeaderContentDisposition)); err == nil {
			opts.Filename = cleanFilename(p["filename"])
		}
	}
	return s.runCampaignImport(c, req.Body, format, opts)
}

// importCampaignForm reads a multipart form part by part: name and validOnly, then the file,
// which is imported as it streams in.
func (s *Server) importCampaignForm(c echo.Context, boundary string, opts campaigns.Options) error {
	if boundary == "" {
		return problem(http.StatusBadRequest, "the multipart/form-data body has no boundary")
	}
	mr := multipart.NewReader(c.Request().Body, boundary)
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return problem(http.StatusBadRequest, "the form has no field file")
		}
		if err != nil {
			return formError(err)
		}
		switch part.FormName() {
		case "name", "validOnly":
			b, err := io.ReadAll(io.LimitReader(part, 4*campaigns.MaxNameLength+1))
			if err != nil {
				return formError(err)
			}
			if part.FormName() == "name" {
				opts.Name = string(b)
			} else if opts.ValidOnly, err = parseValidOnly(string(b)); err != nil {
				return err
			}
		case "file":
			mediaType, params, _ := mime.ParseMediaType(part.Header.Get(echo.HeaderContentType))
			format, err := campaignFormat(mediaType, params, part.FileName())
			if err != nil {
				return err
			}
			if opts.Filename == "" {
				opts.Filename = cleanFilename(part.FileName())
			}
			return s.runCampaignImport(c, part, format, opts)
		default: // another field: skipped
			if _, err := io.Copy(io.Discard, part); err != nil {
				return formError(err)
			}
		}
	}
}

func (s *Server) runCampaignImport(c echo.Context, file io.Reader, format string, opts campaigns.Options) error {
	res, err := campaigns.Import(c.Request().Context(), s.Pool, s.Config, file, format, opts)
	var fileErr *campaigns.FileError
	var maxErr *http.MaxBytesError
	switch {
	case err == nil:
		auditTarget(c, "id", strconv.FormatInt(res.CampaignID, 10))
		loc := fmt.Sprintf("/v1/campaigns/%d", res.CampaignID)
		out := campaignImportOf(res)
		out.Links = map[string]string{"self": loc, "launch": loc + "/launch"}
		c.Response().Header().Set(echo.HeaderLocation, loc)
		return c.JSON(http.StatusCreated, out)
	case errors.As(err, &maxErr):
		return tooLarge()
	case errors.Is(err, campaigns.ErrInvalidOptions):
		return problem(http.StatusBadRequest, fmt.Sprintf("name is required, at most %d printable characters: a query parameter, or a form field before the file", campaigns.MaxNameLength))
	case errors.As(err, &fileErr):
		return problem(http.StatusBadRequest, "the file cannot be read, nothing was imported: "+fileErr.Error())
	case errors.Is(err, campaigns.ErrInvalidFile):
		detail := fmt.Sprintf("%d errors in %d of %d rows: nothing was imported", res.TotalErrors, res.Rejected, res.Rows)
		if opts.ValidOnly {
			detail = fmt.Sprintf("none of the %d rows is valid: nothing was imported", res.Rows)
		}
		p := CampaignImportProblem{
			Type: "https://incasso.local/problems/campaign-file", Title: "Invalid campaign file",
			Status: http.StatusUnprocessableEntity, Detail: detail, CampaignImport: campaignImportOf(res),
		}
		c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
		return c.JSON(p.Status, p)
	default:
		return err
	}
}

// campaignFormat picks the import format from a media type, or from the file name's extension
// when a browser sent a vague one (.csv files often go as application/vnd.ms-excel).
func campaignFormat(mediaType string, params map[string]string, filename string) (string, error) {
	if cs := params["charset"]; cs != "" && !strings.EqualFold(cs, "utf-8") {
		return "", problem(http.StatusUnsupportedMediaType, "campaign files must be UTF-8")
	}
	switch mediaType {
	case "text/csv", "application/csv":
		return campaigns.FormatCSV, nil
	case echo.MIMEApplicationJSON:
		return campaigns.FormatJSON, nil
	case "", "application/octet-stream", "application/vnd.ms-excel", "text/plain":
		switch strings.ToLower(filepath.Ext(filename)) {
		case ".csv":
			return campaigns.FormatCSV, nil
		case ".json":
			return campaigns.FormatJSON, nil
		}
	}
	return "", unsupportedMedia()
}

func parseValidOnly(s string) (bool, error) {
	switch s {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, problem(http.StatusBadRequest, "validOnly must be true or false")
}

// cleanFilename keeps the base name of what a client says its file is called, on one line.
func cleanFilename(name string) string {
	name = filepath.Base(strings.ReplaceAll(name, `\`, "/"))
	if name == "." || name == "/" || strings.ContainsFunc(name, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return ""
	}
	if r := []rune(name); len(r) > 255 {
		name = string(r[:255])
	}
	return name
}

func formError(err error) error {
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return tooLarge()
	}
	return problem(http.StatusBadRequest, "the multipart/form-data body is malformed")
}

func tooLarge() error {
	return problem(http.StatusRequestEntityTooLarge, "a campaign file may be at most "+strconv.Itoa(maxCampaignBytes>>20)+" MB")
}

func unsupportedMedia() error {
	return problem(http.StatusUnsupportedMediaType, "send the file as text/csv or application/json, or as the field file of a multipart/form-data form")
}
