package telegramtest_test

import (
	"net/http"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/cellbot/cellbot/internal/telegramtest"
)

// runEchoBot is a tiny bot under test: /start asks a question with two
// buttons, a button press is answered and the question edited.
func runEchoBot(t *testing.T, endpoint string) {
	bot, err := tgbotapi.NewBotAPIWithClient(telegramtest.Token, endpoint, &http.Client{Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	stop, done := make(chan struct{}), make(chan struct{})
	t.Cleanup(func() { close(stop); <-done })
	go func() {
		defer close(done)
		offset := 0
		for {
			select {
			case <-stop:
				return
			default:
			}
			updates, err := bot.GetUpdates(tgbotapi.UpdateConfig{Offset: offset, Timeout: 1})
			if err != nil {
				continue
			}
			for _, u := range updates {
				offset = u.UpdateID + 1
				switch {
				case u.Message != nil && u.Message.Command() == "start":
					msg := tgbotapi.NewMessage(u.Message.Chat.ID, "Bạn có đến <b>họp chi bộ</b>?")
					msg.ParseMode = tgbotapi.ModeHTML
					msg.ReplyMarkup = tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(
						tgbotapi.NewInlineKeyboardButtonData("Có", "rsvp:yes"),
						tgbotapi.NewInlineKeyboardButtonData("Xin vắng", "rsvp:no"),
					))
					_, _ = bot.Send(msg)
				case u.CallbackQuery != nil:
					q := u.CallbackQuery
					_, _ = bot.Request(tgbotapi.NewCallback(q.ID, "Đã ghi nhận"))
					_, _ = bot.Send(tgbotapi.NewEditMessageText(q.Message.Chat.ID, q.Message.MessageID, "Cảm ơn, đã ghi nhận: "+q.Data))
				}
			}
		}
	}()
}

// TestExample_userPressesButton shows the scripting API: a user opens the
// bot, waits for its question, presses a button, and the test checks what
// the bot did.
func TestExample_userPressesButton(t *testing.T) {
	s := telegramtest.NewServer(t)
	runEchoBot(t, s.Endpoint())

	lan := s.User("Lan")
	lan.Start("")
	question := lan.WaitMessage("họp chi bộ") // visible text, HTML parsed
	if len(question.Buttons) != 1 || question.Buttons[0][1].Text != "Xin vắng" {
		t.Fatalf("buttons = %+v", question.Buttons)
	}

	lan.Press("Có")
	answered := lan.WaitMessage("đã ghi nhận: rsvp:yes")
	if answered.MessageID != question.MessageID || answered.Edits != 1 || answered.Buttons != nil {
		t.Errorf("edited question = %+v", answered)
	}
	s.WaitIdle() // the bot confirmed every update
	if rs := s.Requests("answerCallbackQuery"); len(rs) != 1 || rs[0].Code != 200 || rs[0].Params["text"] != "Đã ghi nhận" {
		t.Errorf("answers = %+v", rs)
	}
}
