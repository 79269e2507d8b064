// Package delivery owns cellbot's outbound messages once they leave a handler: the
// sender that drains the durable queue in Redis (storage/queue.go) within
// Telegram's flood limits (storage/rate.go); what it does on a 429, 403, 400 or a
// network error; the recovery of messages whose sender died; jobs (a broadcast, an
// agenda, a round of notices) with a progress message and a delivery report; a
// rate-limited telegram.Caller for immediate replies and edits (Sender.Direct);
// holding bulk messages in their cell's quiet hours (SenderParams.Cells); and the
// metrics of all this.
//
// A message is written to Redis before anything is sent and completed after
// Telegram accepted it, with a sent marker per part in between, so a crash at any
// moment loses nothing and repeats at most the messages that were in flight.
// Several processes may share one queue: a message leased by a process that died
// is taken over when its lease ends.
//
// Sender.Run runs the loops and stops them in this order when its context ends:
// first the workers, each finishing the message in hand (its HTTP call gets
// SenderParams.Grace); then the progress editor, the finisher (which enqueues
// final edits and reports) and the recoverer, which outlive the workers so that
// what the last workers completed is still followed up.
package delivery
