package telegramtest

import (
	"math"
	"time"
)

// Bucket is a token bucket: PerSecond tokens are added each second up to Burst.
// The zero Bucket means no limit.
type Bucket struct {
	PerSecond float64
	Burst     int
}

// Limits are the flood limits applied to the sending methods (sendMessage,
// sendDocument, sendPhoto, editMessage*).
type Limits struct {
	// Global is shared by all chats (Telegram: about 30 messages a second).
	Global Bucket
	// PerChat applies to each private chat (about 1 a second, short bursts).
	PerChat Bucket
	// PerGroup applies to each group (20 a minute).
	PerGroup Bucket
}

// DefaultLimits are the limits of the Bot FAQ: 30/s overall (burst 30),
// 1/s per private chat (burst 3), 20/min per group (burst 20).
func DefaultLimits() Limits {
	return Limits{
		Global:   Bucket{PerSecond: 30, Burst: 30},
		PerChat:  Bucket{PerSecond: 1, Burst: 3},
		PerGroup: Bucket{PerSecond: 20.0 / 60, Burst: 20},
	}
}

type bucket struct {
	cfg    Bucket
	tokens float64
	last   time.Time
}

func newBucket(cfg Bucket) *bucket {
	return &bucket{cfg: cfg, tokens: float64(cfg.Burst)}
}

func (b *bucket) unlimited() bool { return b == nil || b.cfg.PerSecond <= 0 || b.cfg.Burst <= 0 }

func (b *bucket) refill(now time.Time) {
	if !b.last.IsZero() && now.After(b.last) {
		b.tokens = math.Min(float64(b.cfg.Burst), b.tokens+now.Sub(b.last).Seconds()*b.cfg.PerSecond)
	}
	if b.last.IsZero() || now.After(b.last) {
		b.last = now
	}
}

// wait refills the bucket and returns 0 if a token is available, otherwise
// the seconds (rounded up, at least 1) until one is.
func (b *bucket) wait(now time.Time) int {
	if b.unlimited() {
		return 0
	}
	b.refill(now)
	if b.tokens >= 1 {
		return 0
	}
	secs := int(math.Ceil((1 - b.tokens) / b.cfg.PerSecond))
	return max(secs, 1)
}

func (b *bucket) take() {
	if !b.unlimited() {
		b.tokens--
	}
}

// takeSendLocked checks the global and the chat's bucket and takes a token
// from both, or from neither and returns a 429. With allow_paid_broadcast
// (paid) the global bucket is skipped (Telegram raises it to 1000/s). s.mu
// must be held.
func (s *Server) takeSendLocked(c *chat, paid bool) *apiError {
	if !s.limitsOn {
		return nil
	}
	now := s.now()
	cb := s.buckets[c.id]
	if cb == nil {
		cfg := s.limits.PerGroup
		if c.typ == "private" {
			cfg = s.limits.PerChat
		}
		cb = newBucket(cfg)
		s.buckets[c.id] = cb
	}
	global := s.global
	if paid {
		global = nil
	}
	retry := max(global.wait(now), cb.wait(now))
	if retry > 0 {
		return tooMany(retry)
	}
	global.take()
	cb.take()
	return nil
}
