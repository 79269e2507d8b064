package telegram

import "testing"

func TestUpdateKey(t *testing.T) {
	msg := func(id, msgID int, date int64) Update {
		return Update{UpdateID: id, Message: &Message{MessageID: msgID, Date: date, Chat: Chat{ID: 5, Type: ChatPrivate}}}
	}
	tests := []struct {
		name string
		a, b Update
		same bool
	}{
		{"a redelivery", msg(100, 7, 1700000000), msg(100, 7, 1700000000), true},
		{"an id used again for another message", msg(100, 7, 1700000000), msg(100, 1, 1800000000), false},
		{"another id", msg(100, 7, 1700000000), msg(101, 7, 1700000000), false},
		{"callbacks", Update{UpdateID: 3, CallbackQuery: &CallbackQuery{ID: "q1"}}, Update{UpdateID: 3, CallbackQuery: &CallbackQuery{ID: "q2"}}, false},
	}
	for _, tt := range tests {
		if got := tt.a.Key() == tt.b.Key(); got != tt.same {
			t.Errorf("%s: keys %q and %q, same = %v, want %v", tt.name, tt.a.Key(), tt.b.Key(), got, tt.same)
		}
	}
}

func TestInlineKeyboardMarkupJSON(t *testing.T) {
	b := InlineKeyboardButton{Text: "a", CallbackData: "x"}
	tests := []struct {
		name string
		kb   *InlineKeyboardMarkup
		want string
	}{
		{"built from an empty list", &InlineKeyboardMarkup{}, `{"inline_keyboard":[]}`},
		{"a row without buttons", &InlineKeyboardMarkup{InlineKeyboard: [][]InlineKeyboardButton{{b}, nil}}, `{"inline_keyboard":[[{"text":"a","callback_data":"x"}],[]]}`},
		{"buttons", &InlineKeyboardMarkup{InlineKeyboard: [][]InlineKeyboardButton{{b, b}}}, `{"inline_keyboard":[[{"text":"a","callback_data":"x"},{"text":"a","callback_data":"x"}]]}`},
	}
	for _, tt := range tests {
		if got := mustJSON(tt.kb); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}
