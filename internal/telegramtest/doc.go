// Package telegramtest owns a strict, in-process fake of the Telegram Bot API for
// end-to-end tests of cellbot.
//
// NewServer starts an httptest server that speaks the Bot API at
// Server.Endpoint() (the "…/bot%s/%s" format of TELEGRAM_API_ENDPOINT and
// tgbotapi.NewBotAPIWithAPIEndpoint) and serves files at /file/bot<token>/<path>.
// It validates requests the way the real server does and answers with the real
// error texts: unknown chats, users who never
// opened the bot or blocked it, strict HTML parse mode, length limits, callback
// data limits, "message is not modified", stale callback queries, command lists,
// and — on by default — the flood limits (30 msg/s overall, about 1 msg/s per
// private chat with bursts of 3, 20 msg/min per group) answered with 429 and
// retry_after. Faults can be injected with WithFlood and Server.FailNext.
//
// Tests act as users through a small scripting API (Server.User, Server.Group,
// User.Start, User.Send, User.Press, …): each action builds a realistic Update
// and queues it for getUpdates or pushes it to the webhook set with setWebhook.
// What the bot did is observed with Server.Messages, User.WaitMessage,
// Server.WaitUntil, Server.WaitIdle, Server.Requests and Server.Stats.
//
// Helpers that can fail the test (Press, the Wait* family) call t.Fatalf and must
// be called from the test goroutine. Everything else is safe for concurrent use.
//
// Deliberate differences from the real server: webhook URLs may be plain http
// (httptest servers), Markdown and MarkdownV2 texts are accepted verbatim
// without entity parsing, and a bare "&" in HTML is rejected (the real server
// tolerates it, but the documentation says it must be escaped).
package telegramtest
