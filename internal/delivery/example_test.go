package delivery_test

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cellbot/cellbot/internal/delivery"
	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/texts"
	"github.com/cellbot/cellbot/storage"
)

// A broadcast to a cell's members: the handler answers at once through Direct
// with the message that will show the progress, then starts the job; the Sender
// (running in the background) sends, edits the progress and reports.
func ExampleSender_StartJob() {
	var (
		ctx    = context.Background()
		store  *storage.Store  // storage.New(redisClient, "cellbot")
		bot    telegram.Caller // telegram.New(ctx, token, endpoint, httpClient)
		logger = slog.Default()
	)
	s, err := delivery.NewSender(delivery.SenderParams{
		Store: store, Caller: bot, Logger: logger, Registerer: prometheus.NewRegistry(),
		OnUnreachable: func(ctx context.Context, to storage.QueueRecipient) {
			// mark the member unreachable and tell the committee, once
		},
	})
	if err != nil {
		panic(err)
	}
	go s.Run(ctx) // in main, with the root context

	secretaryChat := int64(500000001)
	members := []storage.QueueRecipient{{CellID: 42, MemberID: 7, ChatID: 500000007, Name: "Nguyễn Văn An"}}
	text := "Sinh hoạt chi bộ tháng 4 lúc 14:00 ngày 03/04/2025."

	var started telegram.Message
	_ = s.Direct().Do(ctx, telegram.SendMessage{ChatID: secretaryChat,
		Text: texts.T(texts.VI, texts.DeliveryStarted, len(members))}, &started)

	job := storage.QueueJob{ID: "bc-42-1712123456", CellID: 42, Purpose: "broadcast", Lang: texts.VI,
		ReportChatID: secretaryChat, ProgressMessageID: started.MessageID}
	var msgs []delivery.Message
	for _, m := range members {
		var parts []string
		for _, p := range delivery.Split(text, delivery.MaxText) { // split raw, then escape
			parts = append(parts, texts.Escape(p))
		}
		msgs = append(msgs, delivery.Message{
			ID:       fmt.Sprintf("bc:%s:%d", job.ID, m.MemberID),
			To:       m,
			Parts:    delivery.TextParts(m.ChatID, parts, nil),
			Purpose:  "broadcast",
			Priority: storage.PriorityBulk,
		})
	}
	if _, err := s.StartJob(ctx, job, msgs); err != nil {
		logger.Error("broadcast", "err", err)
	}
}
