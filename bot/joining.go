package bot

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/delivery"
	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/texts"
	"github.com/cellbot/cellbot/storage"
)

// Joining: no join request vanishes. It waits until a committee member confirms
// or declines it, listed first in /members and shown to a committee member who
// opens the bot, and expires after joinExpiry, when the member is told. Nor does
// a join take over anyone's place: a name linked to an account is refused, a
// request claims an unlinked entry by its name (the notice says which), and a
// confirmed join links a plain member, never with the committee's rights.

const (
	joinExpiry      = 14 * 24 * time.Hour
	maxPendingShown = 10
	// unheardEvery: the group is told at most this often that nobody on the
	// committee can receive join requests.
	unheardEvery = 6 * time.Hour
	// joinNotices within joinNoticesPer is the most the committee is told of
	// one user's requests to a cell: a user who withdraws and asks again over
	// and over cannot flood the committee (the requests still wait, listed in
	// /members), while an honest correction or two still reaches it.
	joinNotices    = 3
	joinNoticesPer = 24 * time.Hour
	// maxSimilarShown: the most roster names a notice of a new name lists as
	// close to it.
	maxSimilarShown = 5
)

// nameMark is the fingerprint of a name that the "send the request with the
// name X" button carries (the name itself may not fit in 64 bytes).
func nameMark(name string) int64 {
	h := fnv.New32a()
	h.Write([]byte(cell.Key(name)))
	return int64(h.Sum32())
}

// joinNotice is the committee's notice of a request, with buttons that carry
// the request (its user and when it was made). It says what confirming does:
// link the account to the roster entry the user claims, named, without the
// committee rights that entry has; or add a new member, with the roster's names
// close to it, so that a namesake's name typed without accents is seen.
func joinNotice(lang string, c cell.Cell, req storage.JoinRequest, roster []cell.Member) (string, *telegram.InlineKeyboardMarkup) {
	who := texts.Escape(req.TGName)
	if who == "" {
		who = fmt.Sprint(req.UserID)
	}
	if req.Username != "" {
		who += " @" + texts.Escape(req.Username)
	}
	var note string
	if req.MemberID != 0 {
		note = texts.T(lang, texts.JoinRequestKnown, texts.Escape(req.Name))
		if i := slices.IndexFunc(roster, func(m cell.Member) bool { return m.ID == req.MemberID }); i >= 0 && roster[i].Role.IsCommittee() {
			note += "\n" + texts.T(lang, texts.JoinRequestRights, texts.Escape(roster[i].Name))
		}
	} else {
		note = texts.T(lang, texts.JoinRequestNew)
		if near := cell.Near(cell.Listed(roster), req.Name); len(near) > 0 {
			var names []string
			for i, m := range near {
				if i == maxSimilarShown {
					names = append(names, "…")
					break
				}
				names = append(names, texts.Escape(m.Name))
			}
			note += "\n" + texts.T(lang, texts.JoinRequestSimilar, strings.Join(names, ", "))
		}
	}
	return texts.T(lang, texts.JoinRequest, texts.Escape(c.Name), texts.Escape(req.Name), who, note),
		keyboard(row(
			cb(texts.T(lang, texts.JoinConfirm), verbJoinConfirm, c.ID, req.UserID, req.At),
			cb(texts.T(lang, texts.JoinReject), verbJoinReject, c.ID, req.UserID, req.At),
		))
}

// committeeReachable reports whether someone on the committee has opened the
// bot and not blocked it since.
func (b *Bot) committeeReachable(ctx context.Context, cellID int64) (bool, error) {
	roster, err := b.p.Store.Members(ctx, cellID)
	if err != nil {
		return false, err
	}
	unreachable, err := b.p.Store.Unreachable(ctx, cellID)
	if err != nil {
		return false, err
	}
	for _, m := range roster {
		if !m.Role.IsCommittee() || m.UserID == 0 || unreachable[m.ID] {
			continue
		}
		opened, err := b.p.Store.Opened(ctx, m.UserID)
		if err != nil {
			return false, err
		}
		if opened {
			return true, nil
		}
	}
	return false, nil
}

// sweepJoins expires the cell's requests older than joinExpiry and tells each
// member, through the queue with a fixed id so that nobody is told twice.
func (b *Bot) sweepJoins(ctx context.Context, c cell.Cell) error {
	reqs, err := b.p.Store.JoinRequests(ctx, c.ID)
	if err != nil {
		return err
	}
	now := b.p.Now()
	for _, req := range reqs {
		if req.At == 0 || now.Sub(time.Unix(0, req.At)) < joinExpiry {
			continue
		}
		dropped, err := b.p.Store.ExpireJoin(ctx, c.ID, req.UserID, req.At)
		if err != nil {
			return err
		}
		if !dropped {
			continue
		}
		b.p.Logger.Info("join request expired", "cell", c.ID, "user_id", req.UserID)
		lang := req.Lang
		if lang == "" {
			lang = c.Lang
		}
		text := texts.T(lang, texts.JoinExpiredYou, texts.Escape(c.Name))
		if _, err := b.p.Delivery.Enqueue(ctx, delivery.Message{
			ID:       fmt.Sprintf("join-expired:%d:%d:%d", c.ID, req.UserID, req.At),
			To:       storage.QueueRecipient{CellID: c.ID, ChatID: req.UserID},
			Parts:    delivery.TextParts(req.UserID, []string{text}, nil),
			Purpose:  "join expired",
			Priority: storage.PriorityUrgent,
		}); err != nil {
			return fmt.Errorf("tell user %d their join request expired: %w", req.UserID, err)
		}
	}
	return nil
}

// showPendingJoins sends a committee member the cell's pending requests, each
// with its buttons, oldest first.
func (b *Bot) showPendingJoins(r *request) error {
	if r.cell == nil || !r.isCommittee() {
		return nil
	}
	if err := b.p.Store.HeardByCommittee(r.ctx, r.cell.ID); err != nil {
		return err
	}
	if err := b.sweepJoins(r.ctx, *r.cell); err != nil {
		return err
	}
	reqs, err := b.p.Store.JoinRequests(r.ctx, r.cell.ID)
	if err != nil || len(reqs) == 0 {
		return err
	}
	roster, err := b.p.Store.Members(r.ctx, r.cell.ID)
	if err != nil {
		return err
	}
	r.reply(r.t(texts.JoinPendingHeader, len(reqs)))
	for i, req := range reqs {
		if i == maxPendingShown {
			break
		}
		text, kb := joinNotice(r.lang, *r.cell, req, roster)
		r.replyKB(text, kb)
	}
	return nil
}

// RunJoinSweeper expires old join requests of every cell at start and then
// every interval until ctx ends, so that a member whose request nobody settled
// is told even when nobody opens /members. Several processes may run it: a
// request is expired, and its member told, once.
func (b *Bot) RunJoinSweeper(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		ids, err := b.p.Store.CellIDs(ctx)
		if err != nil && ctx.Err() == nil {
			b.p.Logger.Warn("join sweeper: list cells", "err", err)
		}
		for _, id := range ids {
			c, err := b.p.Store.Cell(ctx, id)
			if err == nil {
				err = b.sweepJoins(ctx, c)
			}
			if err != nil && ctx.Err() == nil {
				b.p.Logger.Warn("join sweeper", "cell", id, "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
