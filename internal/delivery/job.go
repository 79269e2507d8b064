package delivery

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/texts"
	"github.com/cellbot/cellbot/storage"
)

// PurposeReport is the purpose of a job's final edit and report.
const PurposeReport = "report"

// PurposeProgress is the purpose of a job's progress message and its edits.
const PurposeProgress = "progress"

// ProgressID is the queue's id of a job's progress message, and the name its
// message id is recorded under.
func ProgressID(jobID string) string { return "job:" + jobID + ":progress" }

// progressRef is the message_id of an edit of the job's progress message.
func progressRef(st storage.QueueJobState) string {
	if st.ProgressMessageID == storage.ProgressQueued {
		return Ref(ProgressID(st.ID))
	}
	return strconv.Itoa(st.ProgressMessageID)
}

// editOf is an edit of the job's progress message to text: it replaces an edit
// of it still waiting, and keeps its place behind the message in the chat's lane.
func editOf(st storage.QueueJobState, text string) telegram.Raw {
	edit := RawOf(telegram.EditMessageText{ChatID: st.ReportChatID, Text: text})
	edit.Values["message_id"] = progressRef(st)
	return edit
}

// FinalID and ReportID are the queue ids of a job's final edit of its progress
// message and of its report: deterministic, so that a finisher that died after
// enqueuing them and the one that takes over do not send twice.
func FinalID(jobID string) string  { return "job:" + jobID + ":final" }
func ReportID(jobID string) string { return "job:" + jobID + ":report" }

// recoverLoop puts messages whose lease ended back in the queue, every
// RecoverEvery, in batches of storage.QueueBatch.
func (s *Sender) recoverLoop(ctx context.Context) {
	t := time.NewTicker(s.p.RecoverEvery)
	defer t.Stop()
	for {
		s.recoverOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Sender) recoverOnce(ctx context.Context) {
	// A replica of the version before lanes, still running during a rolling
	// upgrade, queues into the old ready sets: what it queued moves into the
	// lanes here (an empty set costs one lookup).
	if n, err := s.store.MigrateQueueLanes(ctx); err != nil && ctx.Err() == nil {
		s.log.Warn("delivery: move queued messages into lanes", "err", err)
	} else if n > 0 {
		s.log.Info("delivery: moved queued messages into their chats' lanes", "messages", n)
		s.wake.notify()
	}
	for ctx.Err() == nil {
		requeued, done, err := s.store.RecoverLeases(ctx, redisClock, storage.QueueBatch)
		completed := len(done)
		for _, d := range done {
			s.completed(ctx, d.ID, d.Purpose, storage.ResultSent)
		}
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("delivery: recover leases", "err", err)
			}
			return
		}
		if requeued+completed > 0 {
			s.log.Info("delivery: recovered expired leases", "requeued", requeued, "completed", completed)
		}
		if requeued > 0 {
			s.wake.notify()
		}
		if completed > 0 {
			s.kickFinisher()
		}
		if requeued+completed < storage.QueueBatch {
			return
		}
	}
}

// finishLoop takes completed jobs (kicked by the worker that completed one, and
// every RecoverEvery for jobs whose finisher died) and enqueues their final edit
// and report.
func (s *Sender) finishLoop(ctx context.Context) {
	t := time.NewTicker(s.p.RecoverEvery)
	defer t.Stop()
	for {
		for ctx.Err() == nil {
			ids, err := s.store.ClaimFinishedJobs(ctx, redisClock, s.p.Lease, storage.QueueBatch)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Warn("delivery: claim finished jobs", "err", err)
				}
				break
			}
			for _, id := range ids {
				if err := s.finishJob(ctx, id); err != nil {
					s.log.Error("delivery: finish job", "job", id, "err", err)
				}
			}
			if len(ids) < storage.QueueBatch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.finish:
		}
	}
}

// finishJob enqueues the job's final edit and its report, urgent, with
// deterministic ids, then releases the job.
func (s *Sender) finishJob(ctx context.Context, id string) error {
	// Once taken, a job is finished even if Run is stopping: its lease in the
	// finishing set would otherwise delay the report until another process
	// takes it over.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	st, err := s.store.QueueJobState(ctx, id, maxReportNames)
	if errors.Is(err, storage.ErrNotFound) {
		// Expired: nothing to report; just drop it from the finishing set.
		return s.store.ReleaseFinishedJob(ctx, id)
	}
	if err != nil {
		return err
	}
	if st.ReportChatID != 0 {
		// One message: the progress message becomes the report, so no
		// "⏳ sending…" is left behind; without one, the report is sent. The
		// final edit takes the place of a progress edit still waiting, and
		// goes after any in flight: the chat's lane keeps them in order.
		to := storage.QueueRecipient{CellID: st.CellID, ChatID: st.ReportChatID}
		parts := Split(st.Tag+reportText(st), MaxText)
		var msg Message
		if st.ProgressMessageID != 0 {
			msg = Message{ID: FinalID(id), To: to, Purpose: PurposeReport, Priority: storage.PriorityUrgent,
				Parts: append([]telegram.Raw{editOf(st, parts[0])}, TextParts(st.ReportChatID, parts[1:], nil)...), Coalesce: ProgressID(id)}
		} else {
			msg = Message{ID: ReportID(id), To: to, Purpose: PurposeReport, Priority: storage.PriorityUrgent,
				Parts: TextParts(st.ReportChatID, parts, nil)}
		}
		if _, err := s.Enqueue(ctx, msg); err != nil {
			return err
		}
	}
	s.log.Info("delivery: job complete", "job", id, "purpose", st.Purpose, "cell", st.CellID,
		"total", st.Total, "sent", st.Sent, "unreachable", st.Unreachable, "failed", st.Failed)
	return s.store.ReleaseFinishedJob(ctx, id)
}

// reportText is the delivery report: the count delivered of the members with
// Telegram, then who could not be reached and whose message failed, and the
// members without Telegram to tell in person, by name. Names are escaped here:
// the text is HTML.
func reportText(st storage.QueueJobState) string {
	lines := []string{texts.T(st.Lang, texts.DeliveryDone, st.Sent, st.Total)}
	if st.Unreachable > 0 {
		lines = append(lines, texts.T(st.Lang, texts.DeliveryUnreach, st.Unreachable, nameList(st.UnreachableNames, st.Unreachable)))
	}
	if st.Failed > 0 {
		lines = append(lines, texts.T(st.Lang, texts.DeliveryFailed, st.Failed, nameList(st.FailedNames, st.Failed)))
	}
	if n := len(st.Offline); n > 0 {
		lines = append(lines, texts.T(st.Lang, texts.DeliveryNoTelegram, n, nameList(st.Offline[:min(n, maxReportNames)], n)))
	}
	return strings.Join(lines, "\n")
}

func nameList(names []string, total int) string {
	out := make([]string, 0, len(names)+1)
	for _, n := range names {
		if n == "" {
			n = "?"
		}
		out = append(out, texts.Escape(n))
	}
	if total > len(names) {
		out = append(out, "… (+"+strconv.Itoa(total-len(names))+")")
	}
	return strings.Join(out, ", ")
}

// progressLoop edits progress messages for the jobs workers hand it (at most one
// per job every ProgressEvery, across processes: storage.Done holds the throttle).
func (s *Sender) progressLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case id := <-s.progress:
			s.editProgress(ctx, id)
		}
	}
}

// editProgress queues an edit of the job's progress message with its counts:
// while an earlier one waits, it takes that one's place (the latest counts win),
// and the final edit takes the place of a waiting one in turn.
func (s *Sender) editProgress(ctx context.Context, id string) {
	st, err := s.store.QueueJobState(ctx, id, 0)
	if err != nil || st.Done || st.ProgressMessageID == 0 {
		return
	}
	msg := Message{
		ID:       fmt.Sprintf("job:%s:progress:%d", id, st.Completed()),
		To:       storage.QueueRecipient{CellID: st.CellID, ChatID: st.ReportChatID},
		Parts:    []telegram.Raw{editOf(st, st.Tag+texts.T(st.Lang, texts.DeliveryProgress, st.Completed(), st.Total))},
		Purpose:  PurposeProgress,
		Priority: storage.PriorityUrgent,
		Coalesce: ProgressID(id),
	}
	if _, err := s.Enqueue(ctx, msg); err != nil {
		s.log.Warn("delivery: queue a progress edit", "job", id, "err", err)
	}
}
