package storage

import "strconv"

// Keys names every Redis key the bot uses, under one prefix. Everything a cell
// owns carries the hash tag {c:<id>}, a Telegram user's own keys {u:<id>}, and
// everything of the delivery queue the tag {q}, so that each script or
// transaction touches keys of one slot and Redis Cluster works.
type Keys struct {
	prefix string
}

// NewKeys returns the key names under prefix ("cellbot" in production; tests use
// their own so that they can share one server).
func NewKeys(prefix string) Keys { return Keys{prefix: prefix} }

func (k Keys) cell(id int64) string { return k.prefix + ":{c:" + strconv.FormatInt(id, 10) + "}" }

// CellSeq is the last cell id given. STRING
func (k Keys) CellSeq() string { return k.prefix + ":cells:seq" }

// Cells lists every cell id. SET
func (k Keys) Cells() string { return k.prefix + ":cells" }

// ChatCell maps a group chat to its cell id. STRING
func (k Keys) ChatCell(chatID int64) string {
	return k.prefix + ":chat:" + strconv.FormatInt(chatID, 10) + ":cell"
}

// JoinToken maps a join link payload to its cell id. STRING
func (k Keys) JoinToken(token string) string { return k.prefix + ":join:" + token }

// Cell holds a cell's settings: name, chat, tz, lang, quiet, join, created. HASH
func (k Keys) Cell(id int64) string { return k.cell(id) + ":cell" }

// MemberSeq is the last member id given in the cell. STRING
func (k Keys) MemberSeq(id int64) string { return k.cell(id) + ":member:seq" }

// Members maps member id to the member as JSON. HASH
func (k Keys) Members(id int64) string { return k.cell(id) + ":members" }

// Names maps a member name's identity (cell.Key: marks kept, case folded) to the
// member id. Before issue 11 it was keyed by the accent-folded name;
// MigrateNames rebuilds it. HASH
func (k Keys) Names(id int64) string { return k.cell(id) + ":names" }

// Users maps a Telegram user id to the member id it is linked to. HASH
func (k Keys) Users(id int64) string { return k.cell(id) + ":users" }

// Joins maps a Telegram user id to a pending join request as JSON. HASH
func (k Keys) Joins(id int64) string { return k.cell(id) + ":joins" }

// Unreachable maps a member id to the unix time the bot found it could not write
// to them (blocked, or never opened). HASH
func (k Keys) Unreachable(id int64) string { return k.cell(id) + ":unreachable" }

// User holds a Telegram user's own settings: lang, cell (the cell their private
// commands act on). HASH
func (k Keys) User(userID int64) string { return k.user(userID) + ":user" }

func (k Keys) user(userID int64) string {
	return k.prefix + ":{u:" + strconv.FormatInt(userID, 10) + "}"
}

// UserCells lists the cells a user is a member of. SET
func (k Keys) UserCells(userID int64) string { return k.user(userID) + ":cells" }

// Dialogue holds a user's multi-step dialogue state as JSON, with a TTL. STRING
func (k Keys) Dialogue(userID int64) string { return k.user(userID) + ":dialogue" }

// Update records that an update (by telegram.Update.Key) is being or has been
// handled. STRING
func (k Keys) Update(key string) string { return k.prefix + ":update:" + key }

func (k Keys) queue() string { return k.prefix + ":{q}" }

// QueueReady holds message ids ready to send, scored by the unix ms they may go
// at; one set per priority (0 urgent, 1 bulk). ZSET
func (k Keys) QueueReady(priority int) string {
	return k.queue() + ":ready:" + strconv.Itoa(priority)
}

// QueueLeased holds message ids being sent, scored by their lease's end (unix ms). ZSET
func (k Keys) QueueLeased() string { return k.queue() + ":leased" }

// QueueMsg is one outgoing message: its request, job, recipient, enqueue time. HASH
func (k Keys) QueueMsg(id string) string { return k.queue() + ":msg:" + id }

// QueueSent marks a message Telegram accepted, so it is never sent again. STRING
func (k Keys) QueueSent(id string) string { return k.queue() + ":sent:" + id }

// QueueJob counts a job's messages: total, sent, unreachable, failed, and holds
// where its progress goes. HASH
func (k Keys) QueueJob(id string) string { return k.queue() + ":job:" + id }

// QueueJobUnreachable lists the names of a job's unreachable recipients. LIST
func (k Keys) QueueJobUnreachable(id string) string { return k.QueueJob(id) + ":unreachable" }

// QueueJobFailed lists the names of a job's recipients whose message failed. LIST
func (k Keys) QueueJobFailed(id string) string { return k.QueueJob(id) + ":failed" }

// QueueFinishing holds the ids of jobs whose last recipient completed and whose
// final edit and report are still to be enqueued, scored by when a finisher may
// take them (unix ms; a finisher that takes one pushes the score forward, as a
// lease). ZSET
func (k Keys) QueueFinishing() string { return k.queue() + ":finishing" }

// QueueJobProgress throttles the edits of a job's progress message: set with NX
// and a short PX by the process that edits. STRING
func (k Keys) QueueJobProgress(id string) string { return k.QueueJob(id) + ":progress" }

// RateFlood holds the chats that answered 429 lately, scored by unix µs, so that
// 429s from many chats at once pause the global limit too. ZSET
func (k Keys) RateFlood() string { return k.queue() + ":rate:flood" }

// RateGlobal is the theoretical arrival time (unix µs) of the overall send limit. STRING
func (k Keys) RateGlobal() string { return k.queue() + ":rate:global" }

// RateChat is the theoretical arrival time (unix µs) of one chat's send limit. STRING
func (k Keys) RateChat(chatID int64) string {
	return k.queue() + ":rate:chat:" + strconv.FormatInt(chatID, 10)
}

// issue 11

// Migrations records the data migrations done, by name, with the unix time. HASH
func (k Keys) Migrations() string { return k.prefix + ":migrations" }

// FormerChatCell remembers the cell of a group the bot was removed from, so that
// /setup there binds it again. STRING
func (k Keys) FormerChatCell(chatID int64) string {
	return k.prefix + ":chat:" + strconv.FormatInt(chatID, 10) + ":former"
}

// JoinsUnheard is set, with a TTL, when the cell's group was told that no
// committee member can receive join requests, so that it is told once a while,
// not at every request. STRING
func (k Keys) JoinsUnheard(id int64) string { return k.cell(id) + ":joins:unheard" }
