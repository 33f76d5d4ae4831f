package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"go.temporal.io/sdk/client"

	"incasso/app/config"
	"incasso/domain/date"
	"incasso/services/reconciliation"
	"incasso/workflows"
)

// fdrCommand is `incasso fdr run [--date YYYY-MM-DD]`: the FdR intake of a day (default today
// in Rome) run now, waited for, its result printed as JSON. A day run again changes nothing.
func fdrCommand(ctx context.Context, cfg config.Config, c client.Client, args []string, now time.Time, out io.Writer) error {
	if len(args) == 0 || args[0] != "run" {
		return errors.New("usage: incasso fdr run [--date YYYY-MM-DD]")
	}
	fs := flag.NewFlagSet("fdr run", flag.ContinueOnError)
	day := fs.String("date", date.InRome(now).String(), "the day of the run, YYYY-MM-DD")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	d, err := date.Parse(*day)
	if err != nil {
		return fmt.Errorf("--date: want YYYY-MM-DD")
	}
	run, err := reconciliation.StartIntake(ctx, c, cfg.TaskQueue, reconciliation.IntakeInput(cfg.FdR, d))
	if err != nil {
		return err
	}
	var res workflows.FdRIntakeResult
	if err := run.Get(ctx, &res); err != nil {
		return fmt.Errorf("workflow %s: %w", run.GetID(), err)
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}
