//! Money: integer minor units with an ISO 4217 currency. Never a float.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    /// Amount in the currency's minor unit (cents for EUR).
    pub amount_minor: i64,
    /// ISO 4217 code, three upper-case letters.
    pub currency: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MoneyError {
    #[error("currency {0:?} is not an ISO 4217 code (three upper-case letters)")]
    BadCurrency(String),
    #[error("amount {0:?} is not a decimal number with at most 2 decimals")]
    BadAmount(String),
}

impl Money {
    /// Parses a decimal amount such as `1234.50` in a currency with two decimals.
    pub fn parse(amount: &str, currency: &str) -> Result<Self, MoneyError> {
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(MoneyError::BadCurrency(currency.to_owned()));
        }
        let bad = || MoneyError::BadAmount(amount.to_owned());
        let (negative, digits) = match amount.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, amount),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        if whole.is_empty()
            || fraction.len() > 2
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !fraction.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        let whole: i64 = whole.parse().map_err(|_| bad())?;
        let fraction_cents: i64 = format!("{fraction:0<2}").parse().map_err(|_| bad())?;
        let cents = whole
            .checked_mul(100)
            .and_then(|c| c.checked_add(fraction_cents))
            .ok_or_else(bad)?;
        Ok(Money {
            amount_minor: if negative { -cents } else { cents },
            currency: currency.to_owned(),
        })
    }

    /// The amount as a decimal string with two decimals, e.g. `-12.05`.
    pub fn amount_text(&self) -> String {
        let sign = if self.amount_minor < 0 { "-" } else { "" };
        let abs = self.amount_minor.unsigned_abs();
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_decimal_amounts() {
        for (text, cents, back) in [
            ("12.5", 1250, "12.50"),
            ("0.05", 5, "0.05"),
            ("-3", -300, "-3.00"),
            ("1999.99", 199_999, "1999.99"),
        ] {
            let money = Money::parse(text, "EUR").unwrap();
            assert_eq!(money.amount_minor, cents, "{text}");
            assert_eq!(money.amount_text(), back);
        }
    }

    #[test]
    fn refuses_bad_amounts_and_currencies() {
        for text in ["", "1.234", "1,5", "abc", ".5", "1e3"] {
            assert!(Money::parse(text, "EUR").is_err(), "{text}");
        }
        assert_eq!(
            Money::parse("1", "eur"),
            Err(MoneyError::BadCurrency("eur".into()))
        );
    }
}
