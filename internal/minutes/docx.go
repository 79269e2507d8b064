package minutes

import (
	"encoding/xml"
	"strconv"
	"strings"
)

// The page: A4 portrait in twentieths of a point, with the margins of
// administrative documents (top and bottom 2 cm, left 3 cm, right 1.5 cm).
const (
	pageWidth   = 11906
	pageHeight  = 16838
	marginTop   = 1134
	marginLeft  = 1701
	marginRight = 851
	textWidth   = pageWidth - marginLeft - marginRight
)

// run is a piece of text with one formatting.
type run struct {
	text                    string
	bold, italic, underline bool
}

// para is a paragraph: its runs, alignment ("" left, "center", "both"), first
// line indent and, for a dotted line, a tab stop with a dot leader at the
// right margin.
type para struct {
	runs   []run
	align  string
	indent int
	dotted bool
}

// body collects the paragraphs and tables of word/document.xml.
type body struct{ sb strings.Builder }

// esc escapes text for XML; characters XML cannot hold become U+FFFD.
func esc(s string) string {
	var sb strings.Builder
	_ = xml.EscapeText(&sb, []byte(s))
	return sb.String()
}

func (b *body) p(p para) { b.sb.WriteString(paraXML(p)) }

// text is a justified paragraph of plain text.
func (b *body) text(s string) { b.p(para{align: "both", runs: []run{{text: s}}}) }

// heading is a section's bold heading.
func (b *body) heading(s string) {
	b.p(para{})
	b.p(para{runs: []run{{text: s, bold: true}}})
}

// bullet is an item of a section, indented, opening with a dash.
func (b *body) bullet(s string) { b.p(para{align: "both", indent: 567, runs: []run{{text: "- " + s}}}) }

// sub is a line under an item, indented further.
func (b *body) sub(s string) { b.p(para{align: "both", indent: 851, runs: []run{{text: "+ " + s}}}) }

// dotted adds n dotted lines, the room to write by hand.
func (b *body) dotted(n int) {
	for range n {
		b.p(para{dotted: true})
	}
}

func paraXML(p para) string {
	var sb strings.Builder
	sb.WriteString("<w:p>")
	var ppr strings.Builder
	if p.dotted {
		ppr.WriteString(`<w:tabs><w:tab w:val="right" w:leader="dot" w:pos="` + itoa(textWidth) + `"/></w:tabs>`)
	}
	if p.align != "" {
		ppr.WriteString(`<w:jc w:val="` + p.align + `"/>`)
	}
	if p.indent > 0 {
		ppr.WriteString(`<w:ind w:firstLine="` + itoa(p.indent) + `"/>`)
	}
	if ppr.Len() > 0 {
		sb.WriteString("<w:pPr>" + ppr.String() + "</w:pPr>")
	}
	if p.dotted {
		sb.WriteString("<w:r><w:tab/></w:r>")
	}
	for _, r := range p.runs {
		sb.WriteString("<w:r>")
		var rpr string
		if r.bold {
			rpr += "<w:b/><w:bCs/>"
		}
		if r.italic {
			rpr += "<w:i/><w:iCs/>"
		}
		if r.underline {
			rpr += `<w:u w:val="single"/>`
		}
		if rpr != "" {
			sb.WriteString("<w:rPr>" + rpr + "</w:rPr>")
		}
		sb.WriteString(`<w:t xml:space="preserve">` + esc(r.text) + "</w:t></w:r>")
	}
	sb.WriteString("</w:p>")
	return sb.String()
}

// table2 is a table of one row and two columns of equal width, without
// borders unless asked: the header and the signature blocks.
func (b *body) table2(left, right []para, borders bool) {
	col := textWidth / 2
	border := "nil"
	if borders {
		border = "single"
	}
	sb := &b.sb
	sb.WriteString(`<w:tbl><w:tblPr><w:tblW w:w="` + itoa(textWidth) + `" w:type="dxa"/><w:tblLayout w:type="fixed"/><w:tblBorders>`)
	for _, side := range []string{"top", "left", "bottom", "right", "insideH", "insideV"} {
		sb.WriteString(`<w:` + side + ` w:val="` + border + `"/>`)
	}
	sb.WriteString(`</w:tblBorders></w:tblPr><w:tblGrid><w:gridCol w:w="` + itoa(col) + `"/><w:gridCol w:w="` + itoa(col) + `"/></w:tblGrid><w:tr>`)
	for _, cell := range [][]para{left, right} {
		sb.WriteString(`<w:tc><w:tcPr><w:tcW w:w="` + itoa(col) + `" w:type="dxa"/></w:tcPr>`)
		if len(cell) == 0 {
			cell = []para{{}} // a cell holds at least one paragraph
		}
		for _, p := range cell {
			sb.WriteString(paraXML(p))
		}
		sb.WriteString("</w:tc>")
	}
	sb.WriteString("</w:tr></w:tbl>")
}

// document wraps the body with the page settings.
func (b *body) document() string {
	return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
		`<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><w:body>` +
		b.sb.String() +
		`<w:sectPr><w:pgSz w:w="` + itoa(pageWidth) + `" w:h="` + itoa(pageHeight) + `"/>` +
		`<w:pgMar w:top="` + itoa(marginTop) + `" w:right="` + itoa(marginRight) + `" w:bottom="` + itoa(marginTop) + `" w:left="` + itoa(marginLeft) + `" w:header="567" w:footer="567" w:gutter="0"/></w:sectPr>` +
		`</w:body></w:document>`
}

func itoa(n int) string { return strconv.Itoa(n) }
