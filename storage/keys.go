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

// Menus maps a command menu's scope to the fingerprint of the menu last set
// there, so that a start-up sets only the menus that changed. HASH
func (k Keys) Menus() string { return k.prefix + ":menus" }

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
// member id. It was once keyed by the accent-folded name, which merged namesakes;
// MigrateNames rebuilds it. HASH
func (k Keys) Names(id int64) string { return k.cell(id) + ":names" }

// Users maps a Telegram user id to the member id it is linked to. HASH
func (k Keys) Users(id int64) string { return k.cell(id) + ":users" }

// Joins maps a Telegram user id to a pending join request as JSON. HASH
func (k Keys) Joins(id int64) string { return k.cell(id) + ":joins" }

// JoinNotices counts the committee's notices of one user's join requests to
// the cell, expiring with the window they are counted in. STRING
func (k Keys) JoinNotices(id, userID int64) string {
	return k.cell(id) + ":joins:notices:" + strconv.FormatInt(userID, 10)
}

// Unreachable maps a member id to the unix time the bot found it could not write
// to them (blocked, or never opened). HASH
func (k Keys) Unreachable(id int64) string { return k.cell(id) + ":unreachable" }

// User holds a Telegram user's own settings: lang, cell (the cell their private
// commands act on), opened, and join:<cell id> while a join request to that
// cell is pending. Kept while the user belongs to a cell or waits to join one,
// else it expires UserTTL after their last update. HASH
func (k Keys) User(userID int64) string { return k.user(userID) + ":user" }

func (k Keys) user(userID int64) string {
	return k.prefix + ":{u:" + strconv.FormatInt(userID, 10) + "}"
}

// UserCells lists the cells a user is a member of. SET
func (k Keys) UserCells(userID int64) string { return k.user(userID) + ":cells" }

// Dialogue holds a user's multi-step dialogue state as JSON, with a TTL. STRING
func (k Keys) Dialogue(userID int64) string { return k.user(userID) + ":dialogue" }

// UserUpdates holds the keys of a user's updates of the last flood window
// (telegram.Update.Key), scored by when each came (unix ms, Redis's clock), for
// the per-user update limit; it expires a window after the newest. ZSET
func (k Keys) UserUpdates(userID int64) string { return k.user(userID) + ":updates" }

// UserIgnored is set while a user's updates are ignored for having sent too
// many, and expires when that ends. STRING
func (k Keys) UserIgnored(userID int64) string { return k.user(userID) + ":ignored" }

// Update records that an update (by telegram.Update.Key) is being or has been
// handled. STRING
func (k Keys) Update(key string) string { return k.prefix + ":update:" + key }

func (k Keys) queue() string { return k.prefix + ":{q}" }

// QueueReady holds the chats whose lane of a priority (0 urgent, 1 bulk) has a
// message waiting and no message of the chat in flight, scored by the unix ms
// the lane's first message may go at. ZSET
func (k Keys) QueueReady(priority int) string {
	return k.queue() + ":lanes:" + strconv.Itoa(priority)
}

// QueueReadyV1 is the ready set of message ids that queues before lanes kept;
// MigrateQueueLanes moves what it holds into the lanes. ZSET
func (k Keys) QueueReadyV1(priority int) string {
	return k.queue() + ":ready:" + strconv.Itoa(priority)
}

// QueueLane holds, in order, the ids of a chat's messages of one priority not
// yet completed; the first one is waiting, or in flight. LIST
func (k Keys) QueueLane(chatID int64, priority int) string {
	return k.queue() + ":lane:" + strconv.FormatInt(chatID, 10) + ":" + strconv.Itoa(priority)
}

// QueueBusy holds the id of the chat's message in flight, with the lease's
// end as its expiry: one message per chat at a time. STRING
func (k Keys) QueueBusy(chatID int64) string {
	return k.queue() + ":busy:" + strconv.FormatInt(chatID, 10)
}

// QueueResult holds the message id of a sent message queued with Result name,
// for QueueRetention. STRING
func (k Keys) QueueResult(name string) string { return k.queue() + ":result:" + name }

// EditMark holds a fingerprint of the last edit sent for one message, so
// that an edit identical to it is not sent again. STRING
func (k Keys) EditMark(chatID int64, messageID string) string {
	return k.prefix + ":edit:" + strconv.FormatInt(chatID, 10) + ":" + messageID
}

// QueueCoalesce holds the id of the last message queued with a coalesce key,
// until it is claimed. STRING
func (k Keys) QueueCoalesce(key string) string { return k.queue() + ":co:" + key }

// QueueCount counts the messages in the lanes, by priority (fields "0", "1"). HASH
func (k Keys) QueueCount() string { return k.queue() + ":count" }

// QueueWave holds the planned messages not released yet: "template|member|chat",
// scored by when each is released (unix ms). ZSET
func (k Keys) QueueWave() string { return k.queue() + ":wave" }

// QueueTemplate is what the messages of one wave template share: cell,
// purpose, parts, n. HASH
func (k Keys) QueueTemplate(id string) string { return k.queue() + ":tpl:" + id }

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

// Meetings.

// MeetingSeq is the last meeting id given in the cell. STRING
func (k Keys) MeetingSeq(id int64) string { return k.cell(id) + ":meeting:seq" }

// Meetings maps a meeting id to the meeting as JSON. HASH
func (k Keys) Meetings(id int64) string { return k.cell(id) + ":meetings" }

// MeetingsByStart holds the cell's meeting ids scored by start (unix seconds). ZSET
func (k Keys) MeetingsByStart(id int64) string { return k.cell(id) + ":meetings:start" }

// MeetingOrigins maps what created a meeting (an update's key, or "occ:<unix>" for
// a recurring meeting's nominal time) to its id, so that doing it again finds the
// same meeting. HASH
func (k Keys) MeetingOrigins(id int64) string { return k.cell(id) + ":meetings:origin" }

// Schedule holds the cell's meeting settings: cron, workday, place, leads,
// target, ver. HASH
func (k Keys) Schedule(id int64) string { return k.cell(id) + ":schedule" }

// Holidays lists the cell's holidays as yyyy-mm-dd. SET
func (k Keys) Holidays(id int64) string { return k.cell(id) + ":holidays" }

// Answers maps a member id to their RSVP answer to a meeting, as a short record
// (records.go; JSON from earlier versions is still read). HASH
func (k Keys) Answers(id, meetingID int64) string {
	return k.cell(id) + ":m:" + strconv.FormatInt(meetingID, 10) + ":answers"
}

// Notified lists the member ids a meeting's notice was queued for, who hear of a
// move or a cancellation. SET
func (k Keys) Notified(id, meetingID int64) string {
	return k.cell(id) + ":m:" + strconv.FormatInt(meetingID, 10) + ":notified"
}

func (k Keys) sched() string { return k.prefix + ":{s}" }

// SchedDue holds the scheduler's items (see DueItem) scored by when they are due,
// in unix ms. ZSET
func (k Keys) SchedDue() string { return k.sched() + ":due" }

// SchedPlan holds the plans of the rounds the planner moved ahead of their
// due time: item name → JSON (storage.WavePlan). HASH
func (k Keys) SchedPlan() string { return k.sched() + ":plan" }

// SchedLoad holds the planner's reservations: messages per ten seconds, by
// the bucket's number (unix ms / 10,000). HASH
func (k Keys) SchedLoad() string { return k.sched() + ":load" }

// SchedLeased holds the items a process is working on, scored by the end of its
// lease (unix ms). ZSET
func (k Keys) SchedLeased() string { return k.sched() + ":leased" }

// Attendance.

func (k Keys) meeting(id, meetingID int64) string {
	return k.cell(id) + ":m:" + strconv.FormatInt(meetingID, 10)
}

// GroupNotice holds the meeting's notice in the group: msg (its message id),
// shown (the text it shows now), edited (unix ms of the last edit). HASH
func (k Keys) GroupNotice(id, meetingID int64) string { return k.meeting(id, meetingID) + ":group" }

// Presence maps a member id to how their presence was recorded, as a short
// record (records.go; JSON from earlier versions is still read). HASH
func (k Keys) Presence(id, meetingID int64) string { return k.meeting(id, meetingID) + ":presence" }

// Outcomes maps a member id to what the closed meeting meant for them. HASH
func (k Keys) Outcomes(id, meetingID int64) string { return k.meeting(id, meetingID) + ":outcomes" }

// Checkin holds the cell's open check-in: meeting, code. HASH
func (k Keys) Checkin(id int64) string { return k.cell(id) + ":checkin" }

// CheckinTries counts a member's wrong codes, expiring with the lockout. STRING
func (k Keys) CheckinTries(id, memberID int64) string {
	return k.cell(id) + ":checkin:tries:" + strconv.FormatInt(memberID, 10)
}

// AlertSent marks an absence alert sent: kind, member, meeting. STRING
func (k Keys) AlertSent(id int64, kind string, memberID, meetingID int64) string {
	return k.meeting(id, meetingID) + ":alert:" + kind + ":" + strconv.FormatInt(memberID, 10)
}

// CountsDirty holds "cell:meeting" of group notices whose counts changed, scored
// by when their next edit may go (Redis's clock, unix ms). ZSET
func (k Keys) CountsDirty() string { return k.sched() + ":counts" }

// CountsSeq counts the changes of each "cell:meeting", so that an edit knows
// whether more answers came while it was made. HASH
func (k Keys) CountsSeq() string { return k.sched() + ":counts:seq" }

// Answered marks a button press (by its callback query id) answered, so that
// a process that handles its update again after a crash does not answer it a
// second time (Telegram refuses that with "query is too old"). STRING
func (k Keys) Answered(callbackID string) string { return k.prefix + ":answered:" + callbackID }

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

// Lease is a named lease held by one process at a time (the poll lease): the
// holder's token, with a PX that the holder renews. STRING
func (k Keys) Lease(name string) string { return k.prefix + ":lease:" + name }

// JoinTokenRevoked remembers a join link payload that /newlink replaced, with
// its cell id, so that whoever uses the old link is told it is no longer in
// use rather than that it is wrong. STRING
func (k Keys) JoinTokenRevoked(token string) string { return k.prefix + ":join:revoked:" + token }

// AttachmentsEnded marks "<member id>:<yyyy-mm-dd>" for each attachment whose
// end the committee was told of, so that several replicas tell it once. HASH
func (k Keys) AttachmentsEnded(id int64) string { return k.cell(id) + ":attachments:ended" }

// Corrections maps a member id to the committee's latest correction of their
// outcome at a closed meeting, as JSON (cell.Correction). HASH
func (k Keys) Corrections(id, meetingID int64) string {
	return k.meeting(id, meetingID) + ":corrections"
}

// CorrectionLog keeps every correction of a closed meeting, oldest first, as
// JSON (cell.Correction with who, when, from and to). LIST
func (k Keys) CorrectionLog(id, meetingID int64) string {
	return k.meeting(id, meetingID) + ":corrections:log"
}
