// Package printroom is the print room's side of the archive: the letters incasso composed for
// the post (notices and sollecitos by ordinary post, accertamenti by registered post) wait in
// the archive with status PRINT until the print room has printed and posted them, and Posted
// records that. The REST API and the console both mark letters through it.
package printroom

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"incasso/db"
	"incasso/db/dbgen"
	"incasso/domain/date"
	"incasso/services/fault"
)

// Letter is a letter the print room has posted.
type Letter struct {
	CommunicationID int64
	Iupd            string // of the debt it is about
	SentAt          time.Time
	Again           bool // it had been marked posted on that day already
}

// Posted marks letter id printed and posted on the day on (as of now): SENT, sent now when
// on is today, else at the start of that day in Rome. The same day again is the same letter
// (Again); another day, or a message that is no letter waiting for the post, is a Conflict; a
// day in the future is Invalid (field date); an unknown id NotFound.
func Posted(ctx context.Context, q *dbgen.Queries, id int64, on date.Date, now time.Time) (Letter, error) {
	today := date.InRome(now)
	if on.IsZero() {
		return Letter{}, fault.InvalidFields(fault.FieldError{Field: "date", Message: "required: the day the letter was posted as YYYY-MM-DD"})
	}
	if today.Before(on) {
		return Letter{}, fault.InvalidFields(fault.FieldError{Field: "date", Message: "must not be in the future"})
	}
	letter, err := q.GetLetter(ctx, id)
	if err = db.NotFound(err); errors.Is(err, db.ErrNotFound) {
		return Letter{}, fault.New(fault.NotFound, "no such communication")
	} else if err != nil {
		return Letter{}, fmt.Errorf("load communication %d: %w", id, err)
	}
	out := Letter{CommunicationID: id, Iupd: letter.Iupd}
	switch {
	case letter.Channel != "post":
		return out, fault.New(fault.Conflict, "the communication is not a letter for the post")
	case letter.Status == "SENT" && letter.SentAt.Valid && date.InRome(letter.SentAt.Time) == on:
		out.SentAt, out.Again = letter.SentAt.Time, true
		return out, nil
	case letter.Status != "PRINT":
		return out, fault.New(fault.Conflict, "the letter is not waiting for the post: it is "+letter.Status)
	}
	at := now
	if on != today {
		at = time.Date(on.Year, on.Month, on.Day, 0, 0, 0, 0, date.Rome)
	}
	posted, err := q.MarkLetterPosted(ctx, dbgen.MarkLetterPostedParams{ID: id, PostedAt: pgtype.Timestamptz{Time: at, Valid: true}})
	if errors.Is(db.NotFound(err), db.ErrNotFound) {
		return out, fault.New(fault.Conflict, "the letter was marked meanwhile: read it again")
	} else if err != nil {
		return out, fmt.Errorf("mark communication %d posted: %w", id, err)
	}
	out.SentAt = posted.SentAt.Time
	return out, nil
}
