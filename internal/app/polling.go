package app

import (
	"context"
	"crypto/rand"
	"log/slog"
	"time"

	"github.com/cellbot/cellbot/storage"
)

// Poll lease timing: the poller renews its lease every pollRenew; a process
// waiting for it asks every pollRenew too, so a poller killed without
// releasing it is replaced within pollLease+pollRenew.
const (
	pollLease = 4 * time.Second
	pollRenew = time.Second
)

// pollLeases is the part of storage the poll lease needs.
type pollLeases interface {
	AcquireLease(ctx context.Context, name, token string, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, token string) error
}

// runPolling runs poll while this process holds the poll lease, until ctx ends:
// with several processes in long-polling mode exactly one polls (Telegram
// answers a second getUpdates with 409), the others keep running the scheduler
// and delivery and wait for the lease. poll gets a context cancelled when ctx
// ends or the lease is lost (not renewed for pollLease−pollRenew); it must
// return once its context ends. A new term starts a new poller, which begins
// from Telegram's confirmed offset: updates the previous poller fetched but did
// not confirm come again, and the handled-update records skip those it finished.
func runPolling(ctx context.Context, leases pollLeases, logger *slog.Logger, poll func(ctx context.Context)) {
	token := rand.Text()
	waiting := false
	for ctx.Err() == nil {
		ok, err := leases.AcquireLease(ctx, storage.LeasePoll, token, pollLease)
		switch {
		case err != nil && ctx.Err() == nil:
			logger.Warn("take the poll lease", "err", err)
		case ok:
			logger.Info("polling Telegram for updates: this process holds the poll lease")
			waiting = false
			pollTerm(ctx, leases, logger, token, poll)
			continue
		case !waiting:
			logger.Info("another process polls Telegram; waiting for the poll lease")
			waiting = true
		}
		sleep(ctx, pollRenew)
	}
}

// pollTerm runs poll while the lease is renewed, then releases it.
func pollTerm(ctx context.Context, leases pollLeases, logger *slog.Logger, token string, poll func(ctx context.Context)) {
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		poll(pctx)
	}()
	renewed := time.Now()
	t := time.NewTicker(pollRenew)
	defer t.Stop()
	for {
		select {
		case <-done:
			// Released with a context of its own: ctx has usually ended (shutdown),
			// and the next process should not wait for the lease to expire.
			rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			if err := leases.ReleaseLease(rctx, storage.LeasePoll, token); err != nil {
				logger.Warn("release the poll lease", "err", err)
			}
			rcancel()
			return
		case <-t.C:
		}
		if pctx.Err() != nil {
			continue // stopping: wait for poll to return
		}
		ok, err := leases.AcquireLease(pctx, storage.LeasePoll, token, pollLease)
		switch {
		case err == nil && ok:
			renewed = time.Now()
		case err == nil:
			logger.Warn("lost the poll lease to another process; stopping polling")
			cancel()
		case time.Since(renewed) > pollLease-pollRenew:
			logger.Warn("could not renew the poll lease; stopping polling before it expires", "err", err)
			cancel()
		default:
			logger.Warn("renew the poll lease", "err", err)
		}
	}
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
