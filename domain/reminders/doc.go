// Package reminders renders, in Italian, the messages and letters of the escalation ladder
// (DOMAIN.md section 5): the courtesy reminder before the due date, the sollecito after it,
// the accertamento esecutivo with the PEC that notifies it, and the export that hands unpaid
// debts over to the collection agent.
//
// Channels (channels.go) are the ways a message reaches the debtor, cheapest first (App IO,
// e-mail, PEC, SEND, post), each with its legal weight; each step needs a weight (StepWeight)
// and goes by the first channel of its policy's list that reaches the debtor (Choose).
//
// Render gives the subject and the plain text and HTML bodies of a step's e-mail or PEC,
// Letter the accertamento esecutivo as a PDF, EnforcementCSV the hand-over file. The package
// does no I/O but writing to the io.Writer it is given, and its output depends only on its
// input, so that the archive can keep a hash of what was sent. Errors name the field at fault,
// never its value: the data are personal.
package reminders
