//! Durations as rule files and flags write them: `90s`, `15m`, `2h`, `7d`, `1w`.

/// Parses a duration into seconds. A bare number is seconds.
pub fn parse_secs(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: i64 = num.parse().map_err(|_| {
        format!("`{s}` is not a duration: use a number and a unit, e.g. 30s, 15m, 2h, 7d")
    })?;
    let mult = match unit {
        "s" | "" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => {
            return Err(format!(
                "`{unit}` is not a duration unit: use s, m, h, d or w"
            ))
        }
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("`{s}` is too long a duration"))
}

/// Seconds in the largest unit that divides them exactly (`86400` → `1d`, `90` → `90s`):
/// the form `parse_secs` reads back.
pub fn format_secs(secs: u64) -> String {
    for (unit, n) in [("w", 7 * 86_400), ("d", 86_400), ("h", 3600), ("m", 60)] {
        if secs >= n && secs % n == 0 {
            return format!("{}{unit}", secs / n);
        }
    }
    format!("{secs}s")
}

#[cfg(test)]
mod tests {
    use super::{format_secs, parse_secs};

    #[test]
    fn formatted_durations_read_back() {
        for (secs, text) in [
            (86_400, "1d"),
            (90, "90s"),
            (3600, "1h"),
            (1_209_600, "2w"),
            (0, "0s"),
        ] {
            assert_eq!(format_secs(secs), text);
            assert_eq!(parse_secs(text), Ok(secs as i64));
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_secs("90s"), Ok(90));
        assert_eq!(parse_secs("15m"), Ok(900));
        assert_eq!(parse_secs("2h"), Ok(7200));
        assert_eq!(parse_secs("7d"), Ok(604_800));
        assert_eq!(parse_secs("1w"), Ok(604_800));
        assert_eq!(parse_secs("30"), Ok(30));
        assert!(parse_secs("7y").unwrap_err().contains("unit"));
        assert!(parse_secs("soon").is_err());
    }
}
