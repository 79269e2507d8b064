package minutes

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// Paragraphs reads a .docx file back: the text of each paragraph of
// word/document.xml, in order, tables included, a tab as a space. It is how
// tests (and a curious operator) check what a draft says without Word.
func Paragraphs(docx []byte) ([]string, error) {
	zr, err := zip.NewReader(bytes.NewReader(docx), int64(len(docx)))
	if err != nil {
		return nil, fmt.Errorf("minutes: open docx: %w", err)
	}
	var doc io.ReadCloser
	for _, f := range zr.File {
		if f.Name == "word/document.xml" {
			if doc, err = f.Open(); err != nil {
				return nil, fmt.Errorf("minutes: open document.xml: %w", err)
			}
			break
		}
	}
	if doc == nil {
		return nil, fmt.Errorf("minutes: no word/document.xml")
	}
	defer doc.Close()
	const w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
	dec := xml.NewDecoder(doc)
	var (
		out    []string
		cur    strings.Builder
		inText bool
	)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("minutes: read document.xml: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Space != w {
				continue
			}
			switch t.Name.Local {
			case "p":
				cur.Reset()
			case "t":
				inText = true
			case "tab":
				if !inText {
					cur.WriteString(" ")
				}
			}
		case xml.EndElement:
			if t.Name.Space != w {
				continue
			}
			switch t.Name.Local {
			case "p":
				out = append(out, cur.String())
			case "t":
				inText = false
			}
		case xml.CharData:
			if inText {
				cur.Write(t)
			}
		}
	}
}
