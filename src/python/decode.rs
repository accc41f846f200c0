//! Source decoding as CPython does it, refusing every case where CPython and
//! a reviewer would read different text; plus the pre-parse size and depth
//! bounds that keep the parser and the analyzer off pathological input.

use std::sync::LazyLock;

use regex_lite::Regex;
use ruff_python_ast::token::TokenKind;
use ruff_python_parser::{Mode, lexer};

use crate::diagnostic::Diagnostic;
use crate::rules::code as rules;

static CODING_COOKIE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[ \t\x0c]*#.*?coding[:=][ \t]*([-\w.]+)").expect("static regex")
});

const BIDI: &[char] = &[
    '\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{202e}', '\u{2066}', '\u{2067}', '\u{2068}',
    '\u{2069}', '\u{200e}', '\u{200f}', '\u{061c}',
];

/// Statement-level token budget: far beyond real code, far below what
/// overflows a recursive walk.
const MAX_OPERATORS_PER_STATEMENT: usize = 5_000;

/// Decodes `model.py`. Returns the text (BOM removed) when it is safe to
/// parse; diagnostics either way.
pub fn decode(
    file: &str,
    bytes: &[u8],
    max_bytes: u64,
    max_depth: u64,
    diags: &mut Vec<Diagnostic>,
) -> Option<String> {
    let mut push = |d: Diagnostic| diags.push(d.in_file(file.to_string()));
    if bytes.len() as u64 > max_bytes {
        push(
            Diagnostic::new(
                &rules::TOO_COMPLEX,
                format!(
                    "model.py is {} bytes; the policy allows {max_bytes}",
                    bytes.len()
                ),
            )
            .help("a model definition is a few hundred lines; keep data in the weights file"),
        );
        return None;
    }
    let (body, bom) = match bytes.strip_prefix(b"\xef\xbb\xbf") {
        Some(rest) => (rest, 3),
        None => (bytes, 0),
    };
    let text = match std::str::from_utf8(body) {
        Ok(t) => t,
        Err(e) => {
            let at = bom + e.valid_up_to();
            push(
                Diagnostic::new(
                    &rules::SOURCE_ENCODING,
                    format!("model.py is not valid UTF-8 at byte {at}"),
                )
                .help("save the file as UTF-8"),
            );
            return None;
        }
    };
    let mut ok = true;
    // PEP 263: a cookie on line 1, or on line 2 when line 1 is a comment or blank.
    for (index, line) in text.split('\n').take(2).enumerate() {
        if let Some(c) = CODING_COOKIE.captures(line) {
            let name = c.get(1).map_or("", |m| m.as_str());
            let normalized = name.to_ascii_lowercase().replace('_', "-");
            if !matches!(normalized.as_str(), "utf-8" | "utf8") && !normalized.starts_with("utf-8-")
            {
                let start = text
                    .split('\n')
                    .take(index)
                    .map(|l| l.len() + 1)
                    .sum::<usize>()
                    + bom;
                push(
                    Diagnostic::new(&rules::SOURCE_ENCODING, format!("coding cookie `{name}`: CPython would decode this file differently from what you read"))
                        .at(start..start + line.len())
                        .help("remove the cookie or declare `# -*- coding: utf-8 -*-`"),
                );
                ok = false;
            }
            break;
        }
        let trimmed = line.trim_start();
        if !(trimmed.is_empty() || trimmed.starts_with('#')) {
            break;
        }
    }
    if let Some(i) = text.find('\0') {
        push(
            Diagnostic::new(&rules::SOURCE_ENCODING, "model.py contains a NUL byte")
                .at(bom + i..bom + i + 1)
                .help("remove it"),
        );
        ok = false;
    }
    // Pair by pair only in a file with a carriage return to find.
    let lone_cr = if text.contains('\r') {
        (text.as_bytes().windows(2))
            .position(|w| w[0] == b'\r' && w[1] != b'\n')
            .or_else(|| text.ends_with('\r').then(|| text.len() - 1))
    } else {
        None
    };
    if let Some(i) = lone_cr {
        push(
            Diagnostic::new(&rules::SOURCE_ENCODING, "a lone carriage return (\\r) ends a line: some tools show one line where Python sees two")
                .at(bom + i..bom + i + 1)
                .help("use \\n (or \\r\\n) line endings"),
        );
        ok = false;
    }
    // The controls are all outside ASCII.
    let bidi = (!text.is_ascii())
        .then(|| text.char_indices().find(|(_, c)| BIDI.contains(c)))
        .flatten();
    if let Some((i, c)) = bidi {
        push(
            Diagnostic::new(
                &rules::BIDI_CONTROL,
                format!("bidirectional control character U+{:04X}", c as u32),
            )
            .at(bom + i..bom + i + c.len_utf8())
            .help("remove it: it changes how the code is displayed, not how it runs"),
        );
        ok = false;
    }
    if !ok {
        return None;
    }
    if let Some(problem) = complexity(text, max_depth as usize) {
        push(
            Diagnostic::new(&rules::TOO_COMPLEX, problem)
                .help("simplify the code; real models are nowhere near this"),
        );
        return None;
    }
    Some(text.to_string())
}

/// Bounds nesting with the (non-recursive) lexer before the parser sees it.
fn complexity(text: &str, max_depth: usize) -> Option<String> {
    let mut lexer = lexer::lex(text, Mode::Module);
    let (mut brackets, mut indent, mut operators) = (0usize, 0usize, 0usize);
    loop {
        let kind = lexer.next_token();
        match kind {
            TokenKind::EndOfFile => return None,
            TokenKind::Lpar | TokenKind::Lsqb | TokenKind::Lbrace => {
                brackets += 1;
                operators += 1;
            }
            TokenKind::Rpar | TokenKind::Rsqb | TokenKind::Rbrace => {
                brackets = brackets.saturating_sub(1)
            }
            TokenKind::Indent => indent += 1,
            TokenKind::Dedent => indent = indent.saturating_sub(1),
            TokenKind::Newline => operators = 0,
            k if k.is_operator()
                || matches!(
                    k,
                    TokenKind::Not | TokenKind::Lambda | TokenKind::If | TokenKind::Await
                ) =>
            {
                operators += 1
            }
            _ => {}
        }
        if brackets > max_depth {
            return Some(format!("brackets nested deeper than {max_depth} levels"));
        }
        if indent > 100 {
            return Some("blocks nested deeper than 100 levels (CPython's own limit)".into());
        }
        if operators > MAX_OPERATORS_PER_STATEMENT {
            return Some(format!(
                "one statement has more than {MAX_OPERATORS_PER_STATEMENT} operators"
            ));
        }
    }
}
