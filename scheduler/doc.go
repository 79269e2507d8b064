// Package scheduler owns what is due when: the occurrences of a cell's recurring
// meeting (robfig/cron computes them; its runner is not used: it fires in every replica and forgets
// what was due while the process was down),
// the notices and reminders of each meeting, and the loop that claims each due item
// once across every replica and hands its messages to the delivery queue with
// deterministic ids, so that a crash or a second process never sends twice.
//
// Due items live in Redis (storage.DueItem, a sorted set by due time). A process
// claims an item with a lease, does it, and acknowledges it; an item whose process
// died is put back when its lease ends. Every message an item sends has an id made
// of the meeting, the lead time and the member, and the delivery queue sends an id
// once, so doing an item twice is harmless.
package scheduler
