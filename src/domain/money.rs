//! Deal values. Amounts are kept as integer hundredths so sums are exact.

use serde::{Serialize, Serializer};
use std::fmt;

/// An amount in hundredths of the currency unit (cents, øre, pence).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct Amount(pub i64);

impl Amount {
    pub fn from_units(units: i64) -> Self {
        Amount(units * 100)
    }

    /// `self × percent / 100`, rounded half away from zero to the hundredth.
    pub fn percent(self, percent: u8) -> Amount {
        let scaled = self.0 as i128 * percent as i128;
        let rounded = if scaled >= 0 {
            (scaled + 50) / 100
        } else {
            (scaled - 50) / 100
        };
        Amount(rounded as i64)
    }

    /// The amount as a plain number of units, for JSON.
    pub fn as_units(self) -> f64 {
        self.0 as f64 / 100.0
    }

    /// A number without currency: grouping already removed, `.` decimal.
    fn parse_plain(text: &str, cleaned: &str) -> Result<Amount, String> {
        let expected = "a non-negative amount such as 100000, $100,000, 100 000,50 EUR, 120k or 1.5m";
        let (number, multiplier) = match cleaned.to_ascii_lowercase().chars().last() {
            Some('k') => (&cleaned[..cleaned.len() - 1], 1_000i128),
            Some('m') => (&cleaned[..cleaned.len() - 1], 1_000_000i128),
            _ => (cleaned, 1i128),
        };
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        let digits_only = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if whole.is_empty() || !digits_only(whole) || !digits_only(fraction) || fraction.len() > 6 {
            return Err(format!("'{text}' is not {expected}"));
        }
        let overflow = || format!("'{text}' is too large for a deal value");
        if whole.len() + fraction.len() > 18 {
            return Err(overflow());
        }
        let whole: i128 = whole.parse().map_err(|_| overflow())?;
        let mut fraction_scaled: i128 = 0;
        let mut scale: i128 = 1;
        for digit in fraction.chars() {
            fraction_scaled = fraction_scaled * 10 + digit.to_digit(10).unwrap_or(0) as i128;
            scale *= 10;
        }
        // At most 18 digits in all, so this stays far inside i128.
        let numerator = (whole * scale + fraction_scaled) * multiplier * 100;
        if numerator % scale != 0 {
            return Err(format!("'{text}' is more precise than a hundredth"));
        }
        let hundredths = numerator / scale;
        i64::try_from(hundredths).map(Amount).map_err(|_| overflow())
    }
}

impl std::ops::Add for Amount {
    type Output = Amount;
    fn add(self, other: Amount) -> Amount {
        Amount(self.0.saturating_add(other.0))
    }
}

impl std::ops::AddAssign for Amount {
    fn add_assign(&mut self, other: Amount) {
        *self = *self + other;
    }
}

impl std::ops::Sub for Amount {
    type Output = Amount;
    fn sub(self, other: Amount) -> Amount {
        Amount(self.0.saturating_sub(other.0))
    }
}

impl std::iter::Sum for Amount {
    fn sum<I: Iterator<Item = Amount>>(iter: I) -> Amount {
        iter.fold(Amount::default(), |a, b| a + b)
    }
}

/// Currency symbols that name one currency (`kr` names several, so it is not one).
const SYMBOLS: [(&str, &str); 5] = [("US$", "USD"), ("$", "USD"), ("€", "EUR"), ("£", "GBP"), ("¥", "JPY")];

/// A deal value as people write it, and the currency it names, if any:
/// a symbol (`$`, `€`, `£`) or an ISO code (`NOK`, `usd`) before or after
/// the number; digits grouped by `,`, `.`, spaces or `'`; a decimal comma
/// (`1.234,56`, `50 000,5`) told from a grouping one by what follows it.
pub fn parse_money(text: &str) -> Result<(Amount, Option<String>), String> {
    let trimmed = text.trim();
    let mut rest = trimmed;
    let mut currency = None;
    for (symbol, code) in SYMBOLS {
        if let Some(after) = rest.strip_prefix(symbol) {
            rest = after;
            currency = Some(code.to_string());
        } else if let Some(before) = rest.strip_suffix(symbol) {
            rest = before;
            currency = Some(code.to_string());
        }
        if currency.is_some() {
            break;
        }
    }
    if currency.is_none() {
        let letters = |s: &str| s.len() == 3 && s.chars().all(|c| c.is_ascii_alphabetic());
        let head: String = rest.chars().take(3).collect();
        let tail: String = rest
            .chars()
            .rev()
            .take(3)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        if letters(&head) && rest.len() > 3 {
            currency = Some(head.to_ascii_uppercase());
            rest = &rest[3..];
        } else if letters(&tail) && rest.len() > 3 && !tail.to_ascii_lowercase().ends_with(['k', 'm']) {
            currency = Some(tail.to_ascii_uppercase());
            rest = &rest[..rest.len() - 3];
        }
    }
    let grouped: String = rest
        .trim()
        .chars()
        .filter(|c| !matches!(c, '_' | ' ' | '\u{a0}' | '\u{202f}' | '\''))
        .collect();
    Amount::parse_plain(text, &with_decimal_point(&grouped)).map(|amount| (amount, currency))
}

/// A value and the deal's currency: the currency written with the value,
/// which must agree with `stated` (a `--currency` or a Currency column) when
/// both are there; else `stated`, else `default`.
pub fn value_and_currency(text: &str, stated: Option<&str>, default: &str) -> Result<(Amount, String), String> {
    let (amount, written) = parse_money(text)?;
    let stated = stated.map(parse_currency).transpose()?;
    match (written, stated) {
        (Some(written), Some(stated)) if written != stated => Err(format!(
            "'{text}' is in {written}, but the currency given is {stated}; \
             write the value without a currency, or give the one it is in"
        )),
        (Some(written), _) => Ok((amount, written)),
        (None, Some(stated)) => Ok((amount, stated)),
        (None, None) => Ok((amount, parse_currency(default)?)),
    }
}

/// `1.234,56` → `1234.56`, `100,000` → `100000`, `50000,5` → `50000.5`:
/// the last of `,`/`.` is the decimal mark when both appear; a lone comma is
/// one when one or two digits follow it; every other comma or dot groups.
fn with_decimal_point(number: &str) -> String {
    let (commas, dots) = (number.matches(',').count(), number.matches('.').count());
    let decimal = match (commas, dots) {
        (0, 1) => Some('.'),
        (0, _) => None,
        (_, 0) => {
            let after = number.rsplit(',').next().unwrap_or_default();
            let digits = after.chars().take_while(char::is_ascii_digit).count();
            (commas == 1 && (1..=2).contains(&digits)).then_some(',')
        }
        _ => number.rfind(['.', ',']).and_then(|i| number[i..].chars().next()),
    };
    number
        .chars()
        .filter_map(|c| match c {
            ',' | '.' => (Some(c) == decimal).then_some('.'),
            c => Some(c),
        })
        .collect()
}

/// `1,234,567` or `1,234,567.50`: grouped for reading, decimals only when there are any.
impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let (units, cents) = (abs / 100, abs % 100);
        let digits = units.to_string();
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        if cents == 0 {
            write!(f, "{sign}{grouped}")
        } else {
            write!(f, "{sign}{grouped}.{cents:02}")
        }
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0 % 100 == 0 {
            serializer.serialize_i64(self.0 / 100)
        } else {
            serializer.serialize_f64(self.as_units())
        }
    }
}

/// An ISO 4217-shaped currency code: three ASCII letters, upper-cased.
pub fn parse_currency(text: &str) -> Result<String, String> {
    let code = text.trim().to_ascii_uppercase();
    if code.len() == 3 && code.chars().all(|c| c.is_ascii_alphabetic()) {
        Ok(code)
    } else {
        Err(format!(
            "'{text}' is not a currency code; use three letters such as USD, EUR or NOK"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_amount(text: &str) -> Result<Amount, String> {
        parse_money(text).map(|(amount, _)| amount)
    }

    #[test]
    // Amounts in cents: the last group is the cents, so 100_000_00 reads as 100,000.00.
    #[allow(clippy::inconsistent_digit_grouping)]
    fn money_as_people_write_it() {
        let cases = [
            ("$100,000", 100_000_00, Some("USD")),
            ("100k", 100_000_00, None),
            ("1.5M", 1_500_000_00, None),
            ("€50 000", 50_000_00, Some("EUR")),
            ("NOK 1 000 000", 1_000_000_00, Some("NOK")),
            ("1.234,56 EUR", 1_234_56, Some("EUR")),
            ("1,234.56", 1_234_56, None),
            ("50000,5", 50_000_50, None),
            ("1.234.567", 1_234_567_00, None),
            ("100 000,50", 100_000_50, None),
            ("usd250k", 250_000_00, Some("USD")),
            ("£1'200", 1_200_00, Some("GBP")),
        ];
        for (text, hundredths, currency) in cases {
            let (amount, found) = parse_money(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(amount, Amount(hundredths), "{text}");
            assert_eq!(found.as_deref(), currency, "{text}");
        }
        for bad in ["", "$", "abc", "1,2,3,4.5.6", "-5", "12.345.67,8,9"] {
            assert!(parse_money(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn parses_the_ways_people_write_amounts() {
        assert_eq!(parse_amount("100000"), Ok(Amount::from_units(100_000)));
        assert_eq!(parse_amount("100,000"), Ok(Amount::from_units(100_000)));
        assert_eq!(parse_amount("1 250.5"), Ok(Amount(125_050)));
        assert_eq!(parse_amount("120k"), Ok(Amount::from_units(120_000)));
        assert_eq!(parse_amount("1.5M"), Ok(Amount::from_units(1_500_000)));
        assert!(parse_amount("-5").is_err());
        assert!(parse_amount("ten").is_err());
        assert!(parse_amount("").is_err());
        assert!(parse_amount("1.234").is_err());
        assert!(parse_amount("99999999999999999999999").is_err());
        assert!(parse_amount(&format!("{}k", "9".repeat(40))).is_err());
        assert!(parse_amount("999999999999999999m").is_err());
    }

    #[test]
    fn percent_rounds_to_the_hundredth() {
        assert_eq!(Amount::from_units(100_000).percent(60), Amount::from_units(60_000));
        assert_eq!(Amount(1).percent(50), Amount(1));
    }

    #[test]
    fn displays_grouped() {
        assert_eq!(Amount::from_units(1_000_000).to_string(), "1,000,000");
        assert_eq!(Amount(12_345_678).to_string(), "123,456.78");
        assert_eq!(Amount(0).to_string(), "0");
    }
}
