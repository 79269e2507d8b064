package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/storage"
)

// WaveTemplate is what the messages of one round in one language share: the
// requests, whose chat_id the sender sets to each member's chat.
type WaveTemplate struct {
	ID      string // the message ids are ID + ":" + the member's id
	CellID  int64
	Purpose string
	Parts   []telegram.Raw
}

// EnqueueWave queues a round's messages, each released into its chat's
// urgent lane After the call (storage.Store.EnqueueWave): the text is stored
// once per template, not per member. It returns how many were new.
func (s *Sender) EnqueueWave(ctx context.Context, t WaveTemplate, msgs []storage.WaveMessage) (int, error) {
	tpl, err := t.Stored()
	if err != nil {
		return 0, err
	}
	n, err := s.store.EnqueueWave(ctx, s.p.WaveNow(), tpl, msgs)
	if n > 0 {
		s.wakeRelease()
	}
	if err != nil {
		return n, fmt.Errorf("delivery: %w", err)
	}
	return n, nil
}

// Stored is the template as the queue stores it (storage.Store.EnqueueWave).
func (t WaveTemplate) Stored() (storage.WaveTemplate, error) {
	out := storage.WaveTemplate{ID: t.ID, CellID: t.CellID, Purpose: t.Purpose}
	for i, p := range t.Parts {
		b, err := json.Marshal(p)
		if err != nil {
			return out, fmt.Errorf("delivery: wave %s part %d: %w", t.ID, i, err)
		}
		out.Parts = append(out.Parts, b)
	}
	return out, nil
}

func (s *Sender) wakeRelease() {
	select {
	case s.release <- struct{}{}:
	default:
	}
}

// releaseLoop moves the wave's entries into the lanes as they come due, and
// wakes the workers when it did.
func (s *Sender) releaseLoop(ctx context.Context) {
	for ctx.Err() == nil {
		wait := s.p.ReleaseEvery
		for ctx.Err() == nil {
			n, next, err := s.store.ReleaseWave(ctx, s.p.WaveNow(), redisClock, storage.QueueBatch)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Warn("delivery: release the wave", "err", err)
				}
				break
			}
			if n > 0 {
				s.wake.notify()
			}
			if n == storage.QueueBatch {
				continue
			}
			if !next.IsZero() {
				wait = min(wait, max(next.Sub(s.p.WaveNow()), time.Millisecond))
			}
			break
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-t.C:
		case <-s.release:
		}
		t.Stop()
	}
}

// fillTemplate sets the chat of a released message's shared parts.
func fillTemplate(e *storage.QueueEntry, parts []telegram.Raw) {
	if e.Template == "" {
		return
	}
	chat := strconv.FormatInt(e.To.ChatID, 10)
	for i := range parts {
		if parts[i].Values == nil {
			parts[i].Values = telegram.Params{}
		}
		parts[i].Values["chat_id"] = chat
	}
}
