// Package printroom is the print room's side of the archive: the letters incasso composed for
// the post (notices and sollecitos by ordinary post, accertamenti by registered post) wait in
// the archive with status PRINT until the print room has printed and posted them. Queue lists
// them, oldest first; Posted records that one was posted. The REST API and the console both go
// through it.
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

// Queue is a page of the letters still to post, oldest first, after the letter afterID (0 for
// the first page); next is the cursor of the page after it, 0 when this one is the last.
func Queue(ctx context.Context, q *dbgen.Queries, afterID int64, limit int) (letters []dbgen.ListPrintQueueRow, next int64, err error) {
	letters, err = q.ListPrintQueue(ctx, dbgen.ListPrintQueueParams{AfterID: afterID, MaxRows: int32(limit + 1)})
	if err != nil {
		return nil, 0, fmt.Errorf("list the print queue: %w", err)
	}
	if len(letters) > limit {
		letters, next = letters[:limit], letters[limit-1].ID
	}
	return letters, next, nil
}

// Letter is a letter the print room has posted.
type Letter struct {
	CommunicationID int64
	Iupd            string // of the debt it is about
	SentAt          time.Time
	Again           bool // it had been marked posted on that day already
}

// Posted marks letter id printed and posted on the day on (as of now): SENT, sent now when
// on is today, else at the start of that day in Rome. The same day again is the same letter
// (Again), also when a concurrent mark got there first; another day, or a message that is no
// letter waiting for the post, is a Conflict; a day in the future or before the letter was
// composed is Invalid (field date); an unknown id NotFound.
func Posted(ctx context.Context, q *dbgen.Queries, id int64, on date.Date, now time.Time) (Letter, error) {
	today := date.InRome(now)
	switch {
	case on.IsZero():
		return Letter{}, invalidDate("required: the day the letter was posted as YYYY-MM-DD")
	case today.Before(on):
		return Letter{}, invalidDate("must not be in the future")
	}
	for marked := false; ; marked = true {
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
		case letter.Status != "PRINT" || marked:
			return out, fault.New(fault.Conflict, "the letter is not waiting for the post: it is "+letter.Status)
		case on.Before(date.InRome(letter.CreatedAt.Time)):
			return out, invalidDate("must not be before the day the letter was composed")
		}
		at := now
		if on != today {
			at = time.Date(on.Year, on.Month, on.Day, 0, 0, 0, 0, date.Rome)
		}
		posted, err := q.MarkLetterPosted(ctx, dbgen.MarkLetterPostedParams{ID: id, PostedAt: pgtype.Timestamptz{Time: at, Valid: true}})
		if errors.Is(db.NotFound(err), db.ErrNotFound) {
			continue // marked meanwhile: read it again, the same day is the same answer
		} else if err != nil {
			return out, fmt.Errorf("mark communication %d posted: %w", id, err)
		}
		out.SentAt = posted.SentAt.Time
		return out, nil
	}
}

func invalidDate(message string) error {
	return fault.InvalidFields(fault.FieldError{Field: "date", Message: message})
}
