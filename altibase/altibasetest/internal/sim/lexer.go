package sim

import (
	"strconv"
	"strings"
)

// tokKind classifies a token.
type tokKind int

const (
	tokEOF    tokKind = iota
	tokIdent          // keyword or identifier, upper-cased unless quoted
	tokQIdent         // "quoted identifier", case kept
	tokNumber         // integer literal (decimal or 0x hex)
	tokString         // 'string literal' with '' unescaped
	tokSymbol         // ( ) , . ; * = < > <= >= <> !=
)

type token struct {
	kind tokKind
	text string // identifier (upper-cased), string value, symbol
	num  int64  // tokNumber
	pos  int
}

// lex splits sql into tokens. Comments (-- and /* */) are skipped.
func lex(sql string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(sql) {
		c := sql[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			for i < len(sql) && sql[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			end := strings.Index(sql[i+2:], "*/")
			if end < 0 {
				return nil, syntaxErr("unterminated comment")
			}
			i += end + 4
		case isIdentStart(c):
			j := i
			for j < len(sql) && isIdentPart(sql[j]) {
				j++
			}
			toks = append(toks, token{kind: tokIdent, text: strings.ToUpper(sql[i:j]), pos: i})
			i = j
		case c == '"':
			j := strings.IndexByte(sql[i+1:], '"')
			if j < 0 {
				return nil, syntaxErr("unterminated quoted identifier")
			}
			toks = append(toks, token{kind: tokQIdent, text: sql[i+1 : i+1+j], pos: i})
			i += j + 2
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(sql) {
					return nil, syntaxErr("unterminated string literal")
				}
				if sql[j] == '\'' {
					if j+1 < len(sql) && sql[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(sql[j])
				j++
			}
			toks = append(toks, token{kind: tokString, text: b.String(), pos: i})
			i = j + 1
		case c >= '0' && c <= '9':
			t, n, err := lexNumber(sql, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, t)
			i = n
		default:
			sym := string(c)
			if i+1 < len(sql) {
				two := sql[i : i+2]
				if two == "<=" || two == ">=" || two == "<>" || two == "!=" {
					sym = two
				}
			}
			if !strings.Contains("(),.;*=<>!-", sym[:1]) || sym == "!" {
				return nil, syntaxErr("unexpected character %q at %d", c, i)
			}
			toks = append(toks, token{kind: tokSymbol, text: sym, pos: i})
			i += len(sym)
		}
	}
	return append(toks, token{kind: tokEOF, pos: len(sql)}), nil
}

func lexNumber(sql string, i int) (token, int, error) {
	j := i
	base := 10
	if strings.HasPrefix(sql[i:], "0x") || strings.HasPrefix(sql[i:], "0X") {
		base = 16
		j += 2
	}
	k := j
	for k < len(sql) && (isDigit(sql[k]) || base == 16 && isHex(sql[k])) {
		k++
	}
	if k < len(sql) && isIdentPart(sql[k]) {
		return token{}, 0, syntaxErr("bad number at %d", i)
	}
	v, err := strconv.ParseInt(sql[j:k], base, 64)
	if err != nil {
		return token{}, 0, syntaxErr("bad number %q", sql[i:k])
	}
	return token{kind: tokNumber, num: v, text: sql[i:k], pos: i}, k, nil
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

func isIdentPart(c byte) bool { return isIdentStart(c) || isDigit(c) || c == '$' || c == '#' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }
