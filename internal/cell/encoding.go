package cell

import (
	"bytes"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/unicode/norm"
)

// decodeRoster returns a roster file's text as UTF-8 in NFC, whichever way a
// spreadsheet saved it: a UTF-8 BOM, a UTF-16 BOM (Excel's "Unicode Text"),
// UTF-16 without a BOM (told by its zero bytes), valid UTF-8, or else
// Windows-1258, Excel's "CSV" on a Vietnamese Windows. Windows-1258 writes most
// tone marks as combining characters after the letter, so the text is composed
// again. A byte Windows-1258 does not define, or a zero byte that is not
// UTF-16, is a ProblemEncoding: the file is no text.
func decodeRoster(data []byte) ([]byte, error) {
	bad := &LineError{Line: 1, Problem: ProblemEncoding}
	var text []byte
	switch {
	case bytes.HasPrefix(data, []byte("\xef\xbb\xbf")):
		text = data[3:]
		if !utf8.Valid(text) {
			return nil, bad
		}
	case bytes.HasPrefix(data, []byte("\xff\xfe")), bytes.HasPrefix(data, []byte("\xfe\xff")):
		t, err := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder().Bytes(data)
		if err != nil {
			return nil, bad
		}
		text = t
	case bytes.IndexByte(data, 0) >= 0:
		order, ok := utf16Order(data)
		if !ok {
			return nil, bad
		}
		t, err := unicode.UTF16(order, unicode.IgnoreBOM).NewDecoder().Bytes(data)
		if err != nil {
			return nil, bad
		}
		text = t
	case utf8.Valid(data):
		text = data
	default:
		t, err := charmap.Windows1258.NewDecoder().Bytes(data)
		if err != nil {
			return nil, bad
		}
		text = t
	}
	if bytes.ContainsRune(text, utf8.RuneError) || bytes.IndexByte(text, 0) >= 0 {
		return nil, bad
	}
	return norm.NFC.Bytes(text), nil
}

// utf16Order tells UTF-16 without a BOM from its zero bytes: text in Latin
// letters has the high byte of most characters zero, on the odd bytes in
// little-endian order and on the even ones in big-endian.
func utf16Order(data []byte) (unicode.Endianness, bool) {
	if len(data)%2 != 0 {
		return unicode.LittleEndian, false
	}
	var even, odd int
	for i, b := range data {
		if b != 0 {
			continue
		}
		if i%2 == 0 {
			even++
		} else {
			odd++
		}
	}
	half := len(data) / 4 // a quarter of the characters
	switch {
	case odd > half && even == 0:
		return unicode.LittleEndian, true
	case even > half && odd == 0:
		return unicode.BigEndian, true
	}
	return unicode.LittleEndian, false
}
