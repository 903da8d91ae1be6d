//! Domain names as both sides compare them: trimmed, lower-case, without a trailing dot,
//! IDN labels in their ASCII (punycode) form. WHMCS keeps whatever was typed
//! (`Example.COM.`, `bücher.de`); Openprovider keeps `xn--bcher-kva.de`.

use idna::uts46::{AsciiDenyList, DnsLength, Hyphens, Uts46};

/// The comparable form of a name, or `None` when it is not a usable domain name
/// (fewer than two labels, an empty label, characters no domain can hold, a label over
/// 63 characters or a name over 253, counted in its ASCII form, as DNS counts them).
pub(crate) fn normalize(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    let trimmed = trimmed.strip_suffix('.').unwrap_or(trimmed);
    if trimmed.is_empty() {
        return None;
    }
    let ascii = Uts46::new()
        .to_ascii(
            trimmed.as_bytes(),
            AsciiDenyList::STD3,
            Hyphens::Allow,
            DnsLength::Verify,
        )
        .ok()?;
    let labels_ok = ascii.split('.').count() >= 2 && ascii.split('.').all(|l| !l.is_empty());
    labels_ok.then(|| ascii.into_owned())
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn case_space_and_trailing_dot_do_not_matter() {
        assert_eq!(normalize(" Example.COM. ").as_deref(), Some("example.com"));
    }

    #[test]
    fn idn_labels_become_punycode() {
        assert_eq!(normalize("Bücher.de").as_deref(), Some("xn--bcher-kva.de"));
        assert_eq!(
            normalize("xn--bcher-kva.de").as_deref(),
            Some("xn--bcher-kva.de")
        );
    }

    #[test]
    fn unusable_names_are_refused() {
        for bad in [
            "",
            ".",
            "com",
            "a..com",
            "exa mple.com",
            "a.com..",
            "xn--a.com",
        ] {
            assert_eq!(normalize(bad), None, "{bad:?} should be refused");
        }
    }

    #[test]
    fn names_longer_than_dns_allows_are_refused() {
        let label = |n: usize| "a".repeat(n);
        assert!(normalize(&format!("{}.com", label(63))).is_some());
        assert_eq!(normalize(&format!("{}.com", label(64))), None);
        // 253 characters in all is the most DNS takes.
        let name = |total: usize| {
            format!(
                "{}.{}.{}.{}.com",
                label(63),
                label(63),
                label(63),
                label(total - 63 * 3 - 7)
            )
        };
        assert_eq!(name(253).len(), 253);
        assert!(normalize(&name(253)).is_some());
        assert_eq!(normalize(&name(254)), None);
        assert_eq!(normalize(&format!("{}.com", "x".repeat(10_000))), None);
    }
}
