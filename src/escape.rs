//! One escape for every text eegrun shows that it did not write itself (experiment names,
//! folder names, settings, record fields): in HTML text and attributes, in SVG figures and
//! on the terminal. Control characters (NUL, BEL, ESC, …), bidirectional controls (which can
//! make "evil" render as "live") and the non-characters U+FFFE/U+FFFF are shown as
//! `[U+XXXX]`; HTML also escapes the five XML-special characters.

/// True for a character shown as `[U+XXXX]`.
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{fffe}' | '\u{ffff}')
}

/// `text` for the terminal or a figure (whose SVG writer escapes the XML-special
/// characters itself): every control and bidirectional character, line ends included, as
/// `[U+XXXX]`.
pub fn visible(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if hidden(c) {
            out.push_str(&format!("[U+{:04X}]", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// `text` for HTML text and attribute values: the five XML-special characters escaped,
/// tabs and line ends kept (for `<pre>`), every other hidden character as `[U+XXXX]`.
pub fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if hidden(c) => out.push_str(&format!("[U+{:04X}]", c as u32)),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_hidden_character_is_shown_and_xml_escaped_in_html() {
        let hostile = "a<b>&\"'\u{202e}\u{1b}[31m\u{7}\0\n";
        assert_eq!(visible(hostile), "a<b>&\"'[U+202E][U+001B][31m[U+0007][U+0000][U+000A]");
        assert_eq!(
            html(hostile),
            "a&lt;b&gt;&amp;&quot;&#39;[U+202E][U+001B][31m[U+0007][U+0000]\n"
        );
    }
}
