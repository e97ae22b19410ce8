//! Just enough JSON for the bench task: a parser for the files criterion
//! writes and for `report.json`, and the two helpers that write
//! `report.json`.
//!
//! The parser follows RFC 8259 and rejects anything else; it is small
//! because xtask keeps its dependencies to the one it cannot do without
//! (the chart's plotting library).

/// A parsed JSON value.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Json {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, always as an `f64` (criterion's numbers are all `f64`s).
    Number(f64),
    /// A string, with its escapes decoded.
    String(String),
    /// An array.
    Array(Vec<Json>),
    /// An object, its members in file order.
    Object(Vec<(String, Json)>),
}

impl Json {
    /// Parses a complete JSON document.
    pub(super) fn parse(text: &str) -> Result<Json, String> {
        let mut parser = JsonParser { text, pos: 0 };
        let value = parser.value()?;
        parser.skip_whitespace();
        if parser.pos != text.len() {
            return Err(parser.error("trailing characters after the JSON value"));
        }
        Ok(value)
    }

    /// Returns the member `key` if this is an object that has one.
    pub(super) fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(members) => members
                .iter()
                .find(|(name, _)| name == key)
                .map(|(_, value)| value),
            _ => None,
        }
    }

    /// Returns the string if this is one.
    pub(super) fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(string) => Some(string),
            _ => None,
        }
    }

    /// Returns the number if this is one.
    pub(super) fn as_f64(&self) -> Option<f64> {
        match self {
            Json::Number(number) => Some(*number),
            _ => None,
        }
    }

    /// Returns the elements if this is an array.
    pub(super) fn as_array(&self) -> Option<&[Json]> {
        match self {
            Json::Array(elements) => Some(elements),
            _ => None,
        }
    }
}

/// A recursive-descent JSON parser over a string, following RFC 8259.
#[derive(Debug)]
struct JsonParser<'a> {
    /// The whole document.
    text: &'a str,
    /// The byte offset of the next character to read.
    pos: usize,
}

impl JsonParser<'_> {
    /// Parses one value, with any whitespace around it.
    fn value(&mut self) -> Result<Json, String> {
        self.skip_whitespace();
        let value = match self.peek() {
            Some(b'{') => self.object()?,
            Some(b'[') => self.array()?,
            Some(b'"') => Json::String(self.string()?),
            Some(b't') => self.literal("true", Json::Bool(true))?,
            Some(b'f') => self.literal("false", Json::Bool(false))?,
            Some(b'n') => self.literal("null", Json::Null)?,
            Some(b'-' | b'0'..=b'9') => self.number()?,
            Some(_) => return Err(self.error("expected a JSON value")),
            None => return Err(self.error("unexpected end of input")),
        };
        self.skip_whitespace();
        Ok(value)
    }

    /// Parses an object; the next character is `{`.
    fn object(&mut self) -> Result<Json, String> {
        self.pos += 1;
        let mut members = Vec::new();
        self.skip_whitespace();
        if self.eat(b'}') {
            return Ok(Json::Object(members));
        }
        loop {
            self.skip_whitespace();
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a string as an object key"));
            }
            let key = self.string()?;
            self.skip_whitespace();
            if !self.eat(b':') {
                return Err(self.error("expected `:` after an object key"));
            }
            members.push((key, self.value()?));
            if self.eat(b'}') {
                return Ok(Json::Object(members));
            }
            if !self.eat(b',') {
                return Err(self.error("expected `,` or `}` in an object"));
            }
        }
    }

    /// Parses an array; the next character is `[`.
    fn array(&mut self) -> Result<Json, String> {
        self.pos += 1;
        let mut elements = Vec::new();
        self.skip_whitespace();
        if self.eat(b']') {
            return Ok(Json::Array(elements));
        }
        loop {
            elements.push(self.value()?);
            if self.eat(b']') {
                return Ok(Json::Array(elements));
            }
            if !self.eat(b',') {
                return Err(self.error("expected `,` or `]` in an array"));
            }
        }
    }

    /// Parses a string and decodes its escapes; the next character is `"`.
    fn string(&mut self) -> Result<String, String> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            // Copy everything up to the next quote or backslash in one go.
            let rest = &self.text[self.pos..];
            let end = rest
                .find(['"', '\\'])
                .ok_or_else(|| self.error("unterminated string"))?;
            if rest[..end].chars().any(|c| c < ' ') {
                return Err(self.error("control character in a string"));
            }
            out.push_str(&rest[..end]);
            self.pos += end;
            if self.eat(b'"') {
                return Ok(out);
            }
            // The next character is a backslash.
            self.pos += 1;
            let escape = self
                .peek()
                .ok_or_else(|| self.error("unterminated escape"))?;
            self.pos += 1;
            let decoded = match escape {
                b'"' => '"',
                b'\\' => '\\',
                b'/' => '/',
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                b'u' => self.unicode_escape()?,
                _ => return Err(self.error("unknown escape in a string")),
            };
            out.push(decoded);
        }
    }

    /// Decodes the rest of a `\uXXXX` escape, including a following low
    /// surrogate when the first one is a high surrogate.
    fn unicode_escape(&mut self) -> Result<char, String> {
        let first = self.hex4()?;
        let code = if (0xD800..0xDC00).contains(&first) {
            if !self.text[self.pos..].starts_with("\\u") {
                return Err(self.error("unpaired surrogate in a string"));
            }
            self.pos += 2;
            let second = self.hex4()?;
            if !(0xDC00..0xE000).contains(&second) {
                return Err(self.error("unpaired surrogate in a string"));
            }
            0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
        } else {
            first
        };
        char::from_u32(code).ok_or_else(|| self.error("invalid `\\u` escape in a string"))
    }

    /// Reads four hexadecimal digits.
    fn hex4(&mut self) -> Result<u32, String> {
        let digits = self
            .text
            .get(self.pos..self.pos + 4)
            .filter(|digits| digits.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| self.error("expected four hex digits after `\\u`"))?;
        self.pos += 4;
        u32::from_str_radix(digits, 16).map_err(|_| self.error("invalid `\\u` escape"))
    }

    /// Parses a number; the next character is `-` or a digit.
    fn number(&mut self) -> Result<Json, String> {
        let start = self.pos;
        self.eat(b'-');
        if !self.eat(b'0') && !self.digits() {
            return Err(self.error("expected digits in a number"));
        }
        if self.eat(b'.') && !self.digits() {
            return Err(self.error("expected digits after `.` in a number"));
        }
        if self.eat(b'e') || self.eat(b'E') {
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            if !self.digits() {
                return Err(self.error("expected digits in a number's exponent"));
            }
        }
        // The grammar above accepts only what Rust's `f64` parser accepts too.
        self.text[start..self.pos]
            .parse()
            .map(Json::Number)
            .map_err(|_| self.error("invalid number"))
    }

    /// Consumes a run of ASCII digits and returns whether there was one.
    fn digits(&mut self) -> bool {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        self.pos > start
    }

    /// Consumes `word` and returns `value`, or fails if `word` is not next.
    fn literal(&mut self, word: &str, value: Json) -> Result<Json, String> {
        if self.text[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.error("expected `true`, `false` or `null`"))
        }
    }

    /// Returns the next byte without consuming it.
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    /// Consumes `byte` if it is next, and returns whether it was.
    fn eat(&mut self, byte: u8) -> bool {
        let next = self.peek() == Some(byte);
        if next {
            self.pos += 1;
        }
        next
    }

    /// Skips JSON whitespace.
    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// Describes a parse error at the current position.
    fn error(&self, message: &str) -> String {
        format!("{message} at byte {}", self.pos)
    }
}

/// Writes `text` as a JSON string literal, quotes included.
pub(super) fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c < ' ' => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Writes `value` as a JSON number, or `null` when it is not finite (JSON
/// has no NaN or infinity).
///
/// Rust prints the shortest decimal that parses back to the same `f64`,
/// so a value survives a write and a read exactly.
pub(super) fn number(value: f64) -> String {
    if value.is_finite() {
        format!("{value}")
    } else {
        "null".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parser_decodes_values() {
        let json = Json::parse(r#" {"a": [1, {"b": true}, []], "s": "x\"\\\/\n\u00e9\ud83d\ude00", "n": -0.5e-3, "z": null, "f": false} "#)
            .unwrap();
        assert_eq!(
            json.get("a"),
            Some(&Json::Array(vec![
                Json::Number(1.0),
                Json::Object(vec![("b".to_string(), Json::Bool(true))]),
                Json::Array(Vec::new()),
            ]))
        );
        assert_eq!(
            json.get("a").and_then(Json::as_array).map(<[Json]>::len),
            Some(3)
        );
        assert_eq!(json.get("s").and_then(Json::as_str), Some("x\"\\/\né😀"));
        assert_eq!(json.get("n").and_then(Json::as_f64), Some(-0.0005));
        assert_eq!(json.get("z"), Some(&Json::Null));
        assert_eq!(json.get("f"), Some(&Json::Bool(false)));
        assert_eq!(json.get("missing"), None);
        assert_eq!(Json::parse("{}").unwrap(), Json::Object(Vec::new()));
        assert_eq!(Json::parse("\"µs\"").unwrap().as_str(), Some("µs"));
    }

    #[test]
    fn parser_rejects_malformed_input() {
        for bad in [
            "",
            "{",
            "{\"a\" 1}",
            "{\"a\":1,}",
            "[1 2]",
            "[1,]",
            "01x",
            "1.",
            "-",
            "1e",
            "tru",
            "\"abc",
            "\"\\x\"",
            "\"\\ud83d\"",
            "{} {}",
            "{'a':1}",
            "\"tab\there\"",
        ] {
            assert!(Json::parse(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn written_strings_and_numbers_read_back_unchanged() {
        for text in [
            "",
            "plain",
            "quote \" and \\ backslash",
            "line\nbreak\ttab\r",
            "\u{1}\u{1f}",
            "µs ◀ 😀",
        ] {
            let written = quote(text);
            assert_eq!(
                Json::parse(&written).unwrap().as_str(),
                Some(text),
                "{written}"
            );
        }
        assert_eq!(quote("a\"b"), r#""a\"b""#);
        assert_eq!(quote("\u{1}"), r#""\u0001""#);

        for value in [
            0.0,
            10.2,
            4.36186283826828,
            1e-9,
            123_456_789.125,
            -0.5,
            1e300,
        ] {
            let written = number(value);
            assert_eq!(
                Json::parse(&written).unwrap().as_f64(),
                Some(value),
                "{written}"
            );
        }
        assert_eq!(number(f64::NAN), "null");
        assert_eq!(number(f64::INFINITY), "null");
    }
}
