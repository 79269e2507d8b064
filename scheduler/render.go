package scheduler

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cellbot/cellbot/internal/cell"
	"github.com/cellbot/cellbot/internal/telegram"
	"github.com/cellbot/cellbot/internal/texts"
)

// RSVP answers as they travel in a button: 1 coming, 2 excused, 3 not sure.
const (
	RSVPComing  = 1
	RSVPExcused = 2
	RSVPUnsure  = 3
)

// VerbRSVP is the RSVP buttons' verb in the bot's callback codec (bot/buttons.go:
// "1:<verb>:<args in base 36>"); bot's tests decode what RSVPKeyboard makes.
const VerbRSVP = "rv"

// RSVPData is an RSVP button's callback data: cell, meeting, answer.
func RSVPData(cellID, meetingID int64, answer int) string {
	return "1:" + VerbRSVP + ":" + strconv.FormatInt(cellID, 36) + ":" + strconv.FormatInt(meetingID, 36) + ":" + strconv.FormatInt(int64(answer), 36)
}

// RSVPKeyboard is the three RSVP buttons: attending, excused, not sure.
func RSVPKeyboard(lang string, cellID, meetingID int64) *telegram.InlineKeyboardMarkup {
	b := func(key texts.Key, a int) telegram.InlineKeyboardButton {
		return telegram.InlineKeyboardButton{Text: texts.T(lang, key), CallbackData: RSVPData(cellID, meetingID, a)}
	}
	return &telegram.InlineKeyboardMarkup{InlineKeyboard: [][]telegram.InlineKeyboardButton{
		{b(texts.RSVPComing, RSVPComing), b(texts.RSVPExcused, RSVPExcused)},
		{b(texts.RSVPUnsure, RSVPUnsure)},
	}}
}

// KindName is a meeting's kind in words.
func KindName(lang string, k cell.MeetingKind) string {
	if k == cell.KindTopical {
		return texts.T(lang, texts.MeetingKindTopical)
	}
	return texts.T(lang, texts.MeetingKindRegular)
}

// When is a meeting's start in the cell's time zone: "Thứ Năm, 03/04/2025 14:00".
func When(lang string, c cell.Cell, m cell.Meeting) string {
	return texts.DateTime(lang, m.Start.In(cellLocation(c)))
}

func cellLocation(c cell.Cell) *time.Location {
	loc, err := c.LoadLocation()
	if err != nil {
		return time.UTC // the scheduler's load logs a zone that fails
	}
	return loc
}

// maxAgenda is the most of an agenda a notice shows, in characters, leaving room
// for the rest of the notice within Telegram's 4,096.
const maxAgenda = 2500

// details is the title, the place and the agenda, each on its own lines, escaped.
func details(lang string, m cell.Meeting) string {
	var sb strings.Builder
	if m.Title != "" {
		sb.WriteString("\n" + texts.T(lang, texts.MeetingTopic, texts.Escape(m.Title)))
	}
	if m.Place != "" {
		sb.WriteString("\n" + texts.T(lang, texts.MeetingPlace, texts.Escape(m.Place)))
	}
	if len(m.Agenda) > 0 {
		// The whole agenda went out with /agenda; a notice shows what fits in one
		// message, whole items only.
		var items []string
		size := 0
		for i, a := range m.Agenda {
			item := strconv.Itoa(i+1) + ". " + texts.Escape(a)
			if size += utf8.RuneCountInString(item) + 1; size > maxAgenda {
				items = append(items, "…")
				break
			}
			items = append(items, item)
		}
		sb.WriteString("\n\n" + texts.T(lang, texts.MeetingAgenda, strings.Join(items, "\n")))
	}
	return sb.String()
}

// NoticeText is a meeting's notice: kind, weekday, date and time, place, agenda.
func NoticeText(lang string, c cell.Cell, m cell.Meeting) string {
	return texts.T(lang, texts.MeetingNotice, texts.Escape(c.Name), KindName(lang, m.Kind), When(lang, c, m)) +
		details(lang, m) + "\n\n" + texts.T(lang, texts.MeetingAskRSVP)
}

// ReminderText is a reminder lead before the meeting, marked when late.
func ReminderText(lang string, c cell.Cell, m cell.Meeting, now time.Time, late bool) string {
	key := texts.MeetingReminder
	if late {
		key = texts.MeetingReminderLate
	}
	return texts.T(lang, key, startsAt(lang, c, m, now), texts.Escape(c.Name), KindName(lang, m.Kind), When(lang, c, m)) +
		details(lang, m) + "\n\n" + texts.T(lang, texts.MeetingAskRSVP)
}

// startsAt says when the meeting starts as seen from now, in words that stay
// true however long the reminder waits in the queue on its day: "14:00 hôm
// nay", "14:00 ngày mai", else the days left ("3 ngày nữa"), never "in 2
// hours".
func startsAt(lang string, c cell.Cell, m cell.Meeting, now time.Time) string {
	loc := cellLocation(c)
	start, today := m.Start.In(loc), now.In(loc)
	clock := start.Format("15:04")
	y1, m1, d1 := today.Date()
	days := int(time.Date(start.Year(), start.Month(), start.Day(), 12, 0, 0, 0, time.UTC).Sub(time.Date(y1, m1, d1, 12, 0, 0, 0, time.UTC)).Hours() / 24)
	switch days {
	case 0:
		return texts.T(lang, texts.StartsToday, clock)
	case 1:
		return texts.T(lang, texts.StartsTomorrow, clock)
	}
	return texts.T(lang, texts.StartsInDays, texts.Count(lang, days, texts.LeadDays))
}

// CountsText is the group's counts line.
func CountsText(lang string, c cell.Cell, m cell.Meeting, t cell.Counts) string {
	return texts.T(lang, texts.MeetingCounts, When(lang, c, m), t.Expected, t.Coming, t.Excused, t.Unsure, t.NoAnswer)
}
