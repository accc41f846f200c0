//! Plain scalars resolved to values: PyYAML's YAML 1.1 implicit resolvers
//! and constructors (what the evaluator reads), and the YAML 1.2 core
//! schema (what other tools read, for the "reads differently" warning).

use std::sync::LazyLock;

use regex_lite::Regex;

use super::Value;

// PyYAML's implicit resolvers (resolver.py), verbatim in meaning.
static Y11_BOOL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$")
        .expect("static regex")
});
static Y11_FLOAT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?",
        r"|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?",
        r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*",
        r"|[-+]?\.(?:inf|Inf|INF)",
        r"|\.(?:nan|NaN|NAN))$"
    ))
    .expect("static regex")
});
static Y11_INT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(?:[-+]?0b[0-1_]+",
        r"|[-+]?0[0-7_]+",
        r"|[-+]?(?:0|[1-9][0-9_]*)",
        r"|[-+]?0x[0-9a-fA-F_]+",
        r"|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$"
    ))
    .expect("static regex")
});
static Y11_NULL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:~|null|Null|NULL|)$").expect("static regex"));
static Y11_TIMESTAMP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]",
        r"|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?",
        r"(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?",
        r"(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$"
    ))
    .expect("static regex")
});

/// Resolves a plain scalar as PyYAML's SafeLoader does.
pub fn resolve_yaml11(text: &str) -> Value {
    // PyYAML dispatches its implicit resolvers on the first character; the
    // same dispatch spares the regexes for ordinary words.
    let first = text.chars().next();
    let maybe_special = match first {
        None => true,
        Some(c) => "~nNyYtTfFoO-+0123456789.".contains(c),
    };
    if !maybe_special {
        return Value::Str(text.to_string());
    }
    if Y11_NULL.is_match(text) {
        return Value::Null;
    }
    if Y11_BOOL.is_match(text) {
        let lower = text.to_ascii_lowercase();
        return Value::Bool(matches!(lower.as_str(), "yes" | "true" | "on"));
    }
    if Y11_INT.is_match(text) {
        return construct_yaml11_int(text);
    }
    if Y11_FLOAT.is_match(text) {
        return construct_yaml11_float(text);
    }
    if Y11_TIMESTAMP.is_match(text) {
        return Value::Timestamp(text.to_string());
    }
    Value::Str(text.to_string())
}

fn construct_yaml11_int(text: &str) -> Value {
    let cleaned: String = text.chars().filter(|&c| c != '_').collect();
    let (negative, digits) = match cleaned.as_bytes().first() {
        Some(b'-') => (true, &cleaned[1..]),
        Some(b'+') => (false, &cleaned[1..]),
        _ => (false, cleaned.as_str()),
    };
    let magnitude: Option<i128> = if digits == "0" {
        Some(0)
    } else if let Some(bin) = digits.strip_prefix("0b") {
        i128::from_str_radix(bin, 2).ok()
    } else if let Some(hex) = digits.strip_prefix("0x") {
        i128::from_str_radix(hex, 16).ok()
    } else if digits.starts_with('0') {
        i128::from_str_radix(digits, 8).ok()
    } else if digits.contains(':') {
        let mut total: i128 = 0;
        let mut ok = true;
        for part in digits.split(':') {
            match part.parse::<i128>() {
                Ok(p) => total = total.saturating_mul(60).saturating_add(p),
                Err(_) => ok = false,
            }
        }
        ok.then_some(total)
    } else {
        digits.parse::<i128>().ok()
    };
    match magnitude {
        Some(m) => {
            let signed = if negative { -m } else { m };
            i64::try_from(signed).map_or_else(|_| Value::BigInt(text.to_string()), Value::Int)
        }
        None => Value::BigInt(text.to_string()),
    }
}

fn construct_yaml11_float(text: &str) -> Value {
    let cleaned: String = text
        .chars()
        .filter(|&c| c != '_')
        .collect::<String>()
        .to_ascii_lowercase();
    let (sign, body) = match cleaned.as_bytes().first() {
        Some(b'-') => (-1.0, &cleaned[1..]),
        Some(b'+') => (1.0, &cleaned[1..]),
        _ => (1.0, cleaned.as_str()),
    };
    if body == ".inf" {
        return Value::Float(sign * f64::INFINITY);
    }
    if body == ".nan" {
        return Value::Float(f64::NAN);
    }
    if body.contains(':') {
        let mut total = 0.0;
        for part in body.split(':') {
            total = total * 60.0 + part.parse::<f64>().unwrap_or(0.0);
        }
        return Value::Float(sign * total);
    }
    // Python's float() accepts "1." and ".5"; Rust's parse does too.
    match body.parse::<f64>() {
        Ok(f) => Value::Float(sign * f),
        Err(_) => Value::Str(text.to_string()),
    }
}

static Y12_INT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$").expect("static regex")
});
static Y12_FLOAT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")
        .expect("static regex")
});

/// Resolves a plain scalar under the YAML 1.2 core schema (what editors and
/// most other libraries show).
pub fn resolve_yaml12(text: &str) -> Value {
    if text
        .chars()
        .next()
        .is_some_and(|c| !"~nNtTfF-+0123456789.".contains(c))
    {
        return Value::Str(text.to_string());
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if Y12_INT.is_match(text) {
        let parsed = if let Some(oct) = text.strip_prefix("0o") {
            i64::from_str_radix(oct, 8).ok()
        } else if let Some(hex) = text.strip_prefix("0x") {
            i64::from_str_radix(hex, 16).ok()
        } else {
            text.parse::<i64>().ok()
        };
        return parsed.map_or_else(|| Value::BigInt(text.to_string()), Value::Int);
    }
    if Y12_FLOAT.is_match(text) {
        let lower = text.to_ascii_lowercase();
        let f = match lower.trim_start_matches(['+', '-']) {
            ".inf" => {
                if lower.starts_with('-') {
                    f64::NEG_INFINITY
                } else {
                    f64::INFINITY
                }
            }
            ".nan" => f64::NAN,
            _ => lower.parse::<f64>().unwrap_or(f64::NAN),
        };
        return Value::Float(f);
    }
    Value::Str(text.to_string())
}
