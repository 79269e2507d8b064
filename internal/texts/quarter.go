package texts

import "strconv"

// QuarterNumeral is a quarter's number as the language writes it: Vietnamese
// documents write quarters in Roman numerals ("quý II"), English in digits.
func QuarterNumeral(lang string, q int) string {
	if lang != EN && q >= 1 && q <= 4 {
		return [...]string{"I", "II", "III", "IV"}[q-1]
	}
	return strconv.Itoa(q)
}
