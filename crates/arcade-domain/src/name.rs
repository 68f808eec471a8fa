//! Player names: what a player may be called on a board, and when two names are "the same".
//!
//! A name is checked once, at the edge, and only a [`PlayerName`] travels further. Its
//! [`key`](PlayerName::key) is what uniqueness is decided on, so that nobody can claim a name
//! that reads like someone else's ("ALICE", "AIice" with a capital I, or "Аlice" in Cyrillic).

use std::fmt;
use std::str::FromStr;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::{decompose_canonical, is_combining_mark};
use unicode_security::mixed_script::AugmentedScriptSet;
use unicode_security::{GeneralSecurityProfile, MixedScript, skeleton};

/// A validated, normalised player name. Invalid names cannot exist past the edge.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PlayerName {
    display: String,
    key: String,
}

impl PlayerName {
    /// Longest name, in characters (Unicode scalar values) after normalisation.
    pub const MAX_CHARS: usize = 24;

    /// Most combining marks one letter may carry. Real scripts need two or three (Devanagari
    /// nukta and virama, Hebrew points); more is text made to overflow its line.
    const MAX_MARKS_PER_LETTER: usize = 4;

    /// Validate and normalise a name as typed.
    ///
    /// NFKC first, so fullwidth, ligature and other compatibility forms become the letters
    /// they stand for ("Ａｌｉｃｅ" is "Alice"); then trim, collapse runs of spaces, and check
    /// every character, the length and the writing system.
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        let normalised: String = raw.nfkc().collect();
        let mut display = String::with_capacity(normalised.len());
        let mut chars = 0;
        let mut has_letter_or_digit = false;
        // What came before, so that a mark is only accepted on a letter.
        let mut previous = Kind::Space;
        let mut marks_in_a_row = 0;

        for ch in normalised.trim().chars() {
            let kind = classify(ch).ok_or(NameError::InvalidCharacter { ch })?;
            match kind {
                Kind::Space if previous == Kind::Space => continue,
                Kind::Mark => {
                    if !matches!(previous, Kind::Letter | Kind::Mark) {
                        return Err(NameError::StrayMark { ch });
                    }
                    marks_in_a_row += 1;
                    if marks_in_a_row > Self::MAX_MARKS_PER_LETTER {
                        return Err(NameError::TooManyMarks {
                            max: Self::MAX_MARKS_PER_LETTER,
                        });
                    }
                }
                Kind::Letter | Kind::Digit => has_letter_or_digit = true,
                Kind::Space | Kind::Punctuation => {}
            }
            match kind {
                // NFKC composes a letter with its first marks ("e" + U+0301 is "é"): those
                // count too, or five accents would pass as one letter and four marks.
                Kind::Letter => marks_in_a_row = composed_marks(ch),
                Kind::Mark => {}
                _ => marks_in_a_row = 0,
            }
            display.push(ch);
            chars += 1;
            previous = kind;
        }

        if chars == 0 {
            return Err(NameError::Empty);
        }
        if chars > Self::MAX_CHARS {
            return Err(NameError::TooLong { chars });
        }
        if !has_letter_or_digit {
            return Err(NameError::NoLetterOrDigit);
        }
        if !display.as_str().is_single_script() {
            let (first, second) = clashing_scripts(&display);
            return Err(NameError::MixedScripts { first, second });
        }

        let key = key_of(&display);
        Ok(Self { display, key })
    }

    /// The name as shown: NFKC-normalised, trimmed, inner runs of spaces collapsed to one.
    pub fn as_str(&self) -> &str {
        &self.display
    }

    /// The uniqueness key: names a person could mistake for each other share it. Not for
    /// display (it is lower case and folds look-alikes, e.g. "Alice" has the key "allce").
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl fmt::Display for PlayerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display)
    }
}

impl FromStr for PlayerName {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl AsRef<str> for PlayerName {
    fn as_ref(&self) -> &str {
        &self.display
    }
}

/// Why a name was refused, worded so the player knows what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error(
        "a player name needs 1 to {} characters; this one is empty",
        PlayerName::MAX_CHARS
    )]
    Empty,
    #[error(
        "a player name needs 1 to {} characters; this one has {chars}",
        PlayerName::MAX_CHARS
    )]
    TooLong { chars: usize },
    #[error(
        "the character {} is not allowed in a player name: use letters, digits, spaces, '_' or '-'",
        describe(*.ch)
    )]
    InvalidCharacter { ch: char },
    #[error("the combining mark U+{:04X} must follow a letter in a player name", u32::from(*.ch))]
    StrayMark { ch: char },
    #[error("a letter in a player name can carry at most {max} combining marks")]
    TooManyMarks { max: usize },
    #[error("a player name needs at least one letter or digit")]
    NoLetterOrDigit,
    #[error("a player name must use one writing system (this one mixes {first} and {second})")]
    MixedScripts {
        first: &'static str,
        second: &'static str,
    },
}

impl NameError {
    /// Stable snake_case code for clients and metrics; the message may be reworded, this not.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "name_empty",
            Self::TooLong { .. } => "name_too_long",
            Self::InvalidCharacter { .. } => "name_invalid_character",
            Self::StrayMark { .. } => "name_stray_mark",
            Self::TooManyMarks { .. } => "name_too_many_marks",
            Self::NoLetterOrDigit => "name_no_letter_or_digit",
            Self::MixedScripts { .. } => "name_mixed_scripts",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Letter,
    Mark,
    Digit,
    Space,
    Punctuation,
}

/// How many combining marks a precomposed letter holds (its canonical decomposition's marks).
fn composed_marks(letter: char) -> usize {
    let mut marks = 0;
    decompose_canonical(letter, |part| {
        if is_combining_mark(part) {
            marks += 1;
        }
    });
    marks
}

/// What an (already NFKC-normalised) character is, or `None` when names may not contain it.
fn classify(ch: char) -> Option<Kind> {
    match ch {
        ' ' => return Some(Kind::Space),
        '_' | '-' => return Some(Kind::Punctuation),
        _ => {}
    }
    // Invisible characters hide inside otherwise identical names; some of them (variation
    // selectors, Hangul fillers) are marks or letters and would pass the checks below.
    if is_default_ignorable(ch) || is_enclosing_mark(ch) {
        return None;
    }
    if is_combining_mark(ch) {
        return Some(Kind::Mark);
    }
    if ch.is_alphabetic() {
        // Letters of no particular script are modifier symbols that pose as apostrophes and
        // colons (ʻ ʹ ː) or emoji that count as letters (🅰): not part of a name.
        let scripts = AugmentedScriptSet::for_char(ch);
        return (!scripts.is_all()).then_some(Kind::Letter);
    }
    if ch.is_numeric() && is_decimal_digit_type(ch) {
        return Some(Kind::Digit);
    }
    None
}

/// `char::is_numeric` also covers fractions, circled numbers and ancient numerals. UTS #39
/// marks those `Not_XID` (or `Obsolete`), while every decimal digit (category Nd) has one of
/// the identifier types kept here, so this narrows "numeric" down to decimal digits.
fn is_decimal_digit_type(ch: char) -> bool {
    use unicode_security::general_security_profile::IdentifierType as T;
    matches!(
        ch.identifier_type(),
        Some(T::Recommended | T::Inclusion | T::Limited_Use | T::Uncommon_Use | T::Exclusion)
    )
}

/// Default_Ignorable_Code_Point (Unicode's DerivedCoreProperties): drawn as nothing at all.
fn is_default_ignorable(ch: char) -> bool {
    matches!(
        u32::from(ch),
        0x00AD
            | 0x034F
            | 0x061C
            | 0x115F..=0x1160
            | 0x17B4..=0x17B5
            | 0x180B..=0x180F
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x206F
            | 0x3164
            | 0xFE00..=0xFE0F
            | 0xFEFF
            | 0xFFA0
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0000..=0xE0FFF
    )
}

/// General category Me: marks that draw a circle, square or keycap around what precedes them.
fn is_enclosing_mark(ch: char) -> bool {
    matches!(
        u32::from(ch),
        0x0488..=0x0489 | 0x1ABE | 0x20DD..=0x20E0 | 0x20E2..=0x20E4 | 0xA670..=0xA672
    )
}

/// The key: case-insensitive and confusable-insensitive.
///
/// Neither order of the two foldings is enough on its own: the UTS #39 skeleton maps a
/// capital I to l (so "AIice" reads as "Alice") but leaves a small i alone, so lower-casing
/// first would separate "AIice" from "Alice", while skeleton first would separate "ALICE"
/// ("ALlCE") from "alice". So: settle the case (lower, then upper, so that ß, ẞ and SS, or
/// ς, σ and Σ, agree), fold look-alikes among the capitals (I and l meet there), lower-case,
/// and fold look-alikes among the small letters (rn and m meet there).
pub(crate) fn key_of(display: &str) -> String {
    let capitals = display.to_lowercase().to_uppercase();
    let folded: String = skeleton(&capitals).collect();
    skeleton(&folded.to_lowercase()).collect()
}

/// The two writing systems that first fail to meet, for the error message.
fn clashing_scripts(name: &str) -> (&'static str, &'static str) {
    let mut common = AugmentedScriptSet::default();
    for ch in name.chars() {
        let own = AugmentedScriptSet::for_char(ch);
        let mut next = common;
        next.intersect_with(own);
        if next.is_empty() {
            return (script_name(common), script_name(own));
        }
        common = next;
    }
    ("one script", "another")
}

fn script_name(set: AugmentedScriptSet) -> &'static str {
    // Prefer the writing system over one of its scripts ("Japanese" rather than "Hiragana").
    match (set.hanb, set.jpan, set.kore) {
        (false, true, false) => return "Japanese",
        (false, false, true) => return "Korean",
        (true, false, false) => return "Chinese",
        _ => {}
    }
    match set.base.iter().next() {
        Some(script) if !set.is_all() => script.full_name(),
        _ => "another script",
    }
}

/// A character as a player can find it in what they typed: itself when it is visible, and
/// always its code point, with a name for the invisible ones people actually paste.
fn describe(ch: char) -> String {
    let code = u32::from(ch);
    let name = match code {
        0x00 => Some("null"),
        0x09 => Some("tab"),
        0x0A => Some("line break"),
        0x0D => Some("carriage return"),
        0x00AD => Some("soft hyphen"),
        0x034F => Some("combining grapheme joiner"),
        0x061C => Some("Arabic letter mark"),
        0x115F | 0x1160 | 0x3164 | 0xFFA0 => Some("Hangul filler"),
        0x180E => Some("Mongolian vowel separator"),
        0x200B => Some("zero-width space"),
        0x200C => Some("zero-width non-joiner"),
        0x200D => Some("zero-width joiner"),
        0x200E => Some("left-to-right mark"),
        0x200F => Some("right-to-left mark"),
        0x2028 => Some("line separator"),
        0x2029 => Some("paragraph separator"),
        0x202A => Some("left-to-right embedding"),
        0x202B => Some("right-to-left embedding"),
        0x202C => Some("pop directional formatting"),
        0x202D => Some("left-to-right override"),
        0x202E => Some("right-to-left override"),
        0x2060 => Some("word joiner"),
        0x2066 => Some("left-to-right isolate"),
        0x2067 => Some("right-to-left isolate"),
        0x2068 => Some("first strong isolate"),
        0x2069 => Some("pop directional isolate"),
        0xFEFF => Some("zero-width no-break space"),
        0xFE00..=0xFE0F | 0xE0100..=0xE01EF => Some("variation selector"),
        0xE0000..=0xE007F => Some("tag character"),
        _ if ch.is_control() => Some("control character"),
        _ if ch.is_whitespace() => Some("a space other than the plain space"),
        _ if is_default_ignorable(ch) => Some("invisible character"),
        _ => None,
    };
    match name {
        Some(name) => format!("U+{code:04X} ({name})"),
        None if is_combining_mark(ch) => format!("U+{code:04X} (combining mark)"),
        None => format!("'{ch}' (U+{code:04X})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(raw: &str) -> PlayerName {
        PlayerName::parse(raw).unwrap_or_else(|e| panic!("{raw:?} should be valid: {e}"))
    }

    fn err(raw: &str) -> NameError {
        match PlayerName::parse(raw) {
            Ok(name) => panic!("{raw:?} should be refused, got {name:?}"),
            Err(e) => e,
        }
    }

    fn key(raw: &str) -> String {
        ok(raw).key().to_owned()
    }

    #[test]
    fn valid_names_in_many_scripts() {
        for raw in [
            "Alice",
            "José Müller",
            "Zoë",
            "Łukasz",
            "Ærøskøbing",
            "Дмитрий",
            "Ελένη",
            "王小明",
            "山田さくら",
            "ヤマダタロウ",
            "ゲーマー",
            "김민수",
            "محمد",
            "נעמי",
            "नमस्ते",
            "ศรีสมร",
        ] {
            let name = ok(raw);
            assert_eq!(name.as_str(), raw);
            assert_eq!(name.to_string(), raw);
        }
    }

    #[test]
    fn digits_underscore_and_dash() {
        assert_eq!(ok("player_1-x").as_str(), "player_1-x");
        assert_eq!(ok("42").as_str(), "42");
        // Digits of the name's own script are fine; mixing them with another script is not.
        assert_eq!(ok("अमित१२").as_str(), "अमित१२");
        assert_eq!(ok("علي٣").as_str(), "علي٣");
        assert_eq!(err("abc१").code(), "name_mixed_scripts");
    }

    #[test]
    fn nfkc_and_whitespace_normalisation() {
        let wide = ok("Ａｌｉｃｅ");
        assert_eq!(wide.as_str(), "Alice");
        assert_eq!(wide.key(), ok("Alice").key());
        assert_eq!(ok("  Alice   Smith  ").as_str(), "Alice Smith");
        // No-break and ideographic spaces are spaces after NFKC.
        assert_eq!(ok("Alice\u{00A0}\u{3000}Smith").as_str(), "Alice Smith");
        // The ﬁ ligature is two letters.
        assert_eq!(ok("ﬁsh").as_str(), "fish");
        // Decomposed accents are composed.
        assert_eq!(ok("Jose\u{0301}").as_str(), "José");
        assert_eq!(ok("Jose\u{0301}").key(), ok("José").key());
    }

    #[test]
    fn length_is_counted_in_characters() {
        let max = "é".repeat(PlayerName::MAX_CHARS);
        assert!(
            max.len() > PlayerName::MAX_CHARS,
            "counted in chars, not bytes"
        );
        assert_eq!(ok(&max).as_str().chars().count(), 24);
        assert_eq!(ok(&"漢".repeat(24)).as_str().chars().count(), 24);
        let too_long = err(&"a".repeat(25));
        assert_eq!(too_long, NameError::TooLong { chars: 25 });
        assert_eq!(too_long.code(), "name_too_long");
        assert_eq!(
            err(&"a".repeat(31)).to_string(),
            "a player name needs 1 to 24 characters; this one has 31"
        );
        // Collapsed and trimmed spaces do not count.
        assert!(PlayerName::parse(&format!("  {}   {}  ", "a".repeat(11), "b".repeat(12))).is_ok());
        // Compatibility characters count once expanded: ㍿ is four characters.
        assert_eq!(
            err(&format!("{}㍿", "a".repeat(21))).code(),
            "name_too_long"
        );
    }

    #[test]
    fn emoji_are_refused() {
        for raw in ["Alice😀", "😀", "🅰lice", "Al🇫🇷", "A\u{20E3}"] {
            assert_eq!(err(raw).code(), "name_invalid_character", "{raw:?}");
        }
        assert_eq!(
            err("hi😀").to_string(),
            "the character '😀' (U+1F600) is not allowed in a player name: use letters, digits, \
             spaces, '_' or '-'"
        );
    }

    #[test]
    fn empty_and_blank_names() {
        for raw in ["", " ", "   ", "\t", "\n ", "\u{3000}"] {
            assert_eq!(err(raw), NameError::Empty, "{raw:?}");
        }
        assert_eq!(err("").code(), "name_empty");
        for raw in ["_", "- _ -", "___"] {
            assert_eq!(err(raw), NameError::NoLetterOrDigit, "{raw:?}");
        }
    }

    #[test]
    fn invisible_characters_are_refused() {
        for (raw, ch) in [
            ("Ali\u{200B}ce", '\u{200B}'),
            ("Ali\u{200C}ce", '\u{200C}'),
            ("Ali\u{200D}ce", '\u{200D}'),
            ("Ali\u{2060}ce", '\u{2060}'),
            ("Ali\u{FEFF}ce", '\u{FEFF}'),
            ("Ali\u{00AD}ce", '\u{00AD}'),
            ("Alice\u{FE0F}", '\u{FE0F}'),
            ("Ali\u{034F}ce", '\u{034F}'),
            ("\u{1160}", '\u{1160}'),
            // The Hangul filler letter that passes for a blank name normalises to U+1160.
            ("\u{3164}", '\u{1160}'),
            ("\u{115F}김", '\u{115F}'),
        ] {
            assert_eq!(err(raw), NameError::InvalidCharacter { ch }, "{raw:?}");
        }
        assert_eq!(
            err("Ali\u{200B}ce").to_string(),
            "the character U+200B (zero-width space) is not allowed in a player name: use \
             letters, digits, spaces, '_' or '-'"
        );
    }

    #[test]
    fn bidi_controls_are_refused() {
        for ch in [
            '\u{202E}', '\u{202D}', '\u{200E}', '\u{200F}', '\u{2067}', '\u{061C}',
        ] {
            let raw = format!("Alice{ch}bob");
            assert_eq!(err(&raw), NameError::InvalidCharacter { ch });
        }
        assert!(
            err("\u{202E}ecilA")
                .to_string()
                .contains("right-to-left override")
        );
    }

    #[test]
    fn control_characters_are_refused() {
        for ch in [
            '\u{0}', '\u{7}', '\u{1B}', '\u{7F}', '\u{85}', '\u{9F}', '\t', '\n', '\r',
        ] {
            let raw = format!("Ali{ch}ce");
            assert_eq!(err(&raw), NameError::InvalidCharacter { ch }, "{raw:?}");
        }
        assert!(err("Ali\tce").to_string().contains("U+0009 (tab)"));
        // Other spaces that NFKC leaves alone are refused rather than collapsed.
        assert_eq!(
            err("Ali\u{2028}ce"),
            NameError::InvalidCharacter { ch: '\u{2028}' }
        );
    }

    #[test]
    fn punctuation_and_symbols_are_refused() {
        for raw in [
            "Al.ice", "Al'ice", "Al!", "a@b", "a+b", "a/b", "Hawaiʻi", "a:b", "a·b", "$$",
        ] {
            assert_eq!(err(raw).code(), "name_invalid_character", "{raw:?}");
        }
        // Fractions, circled numbers and superscripts become plain characters under NFKC
        // (the fraction slash is then refused); numerals that stay symbols are refused.
        assert_eq!(ok("①②").as_str(), "12");
        assert_eq!(err("½").code(), "name_invalid_character");
        assert_eq!(err("a፲").code(), "name_invalid_character");
    }

    #[test]
    fn marks_must_belong_to_letters() {
        assert_eq!(err("\u{0301}a"), NameError::StrayMark { ch: '\u{0301}' });
        assert_eq!(err("a \u{0336}b"), NameError::StrayMark { ch: '\u{0336}' });
        assert_eq!(err("1\u{0336}"), NameError::StrayMark { ch: '\u{0336}' });
        assert_eq!(
            err("a\u{0301}\u{0336}\u{0337}\u{0338}\u{0339}\u{033A}").code(),
            "name_too_many_marks"
        );
        // Five marks on one letter, the first composed into it by NFKC ("á" + four).
        assert_eq!(
            err("a\u{0301}\u{0336}\u{0337}\u{0338}\u{0339}"),
            NameError::TooManyMarks { max: 4 }
        );
        // Four are fine, composed or not; so is a letter with two marks precomposed ("ǘ").
        assert_eq!(
            ok("a\u{0301}\u{0336}\u{0337}\u{0338}").as_str(),
            "\u{e1}\u{0336}\u{0337}\u{0338}"
        );
        assert_eq!(
            ok("\u{01D8}\u{0336}\u{0337}").as_str(),
            "\u{01D8}\u{0336}\u{0337}"
        );
        assert_eq!(
            err("\u{01D8}\u{0336}\u{0337}\u{0338}"),
            NameError::TooManyMarks { max: 4 }
        );
        // A letter with marks that do not compose is fine.
        assert_eq!(ok("a\u{0336}").as_str(), "a\u{0336}");
    }

    #[test]
    fn mixed_scripts_are_refused() {
        // "pаypal" with a Cyrillic а.
        let e = err("p\u{0430}ypal");
        assert_eq!(e.code(), "name_mixed_scripts");
        assert_eq!(
            e.to_string(),
            "a player name must use one writing system (this one mixes Latin and Cyrillic)"
        );
        assert_eq!(err("Alice Ωmega").code(), "name_mixed_scripts");
        assert_eq!(err("Mr田中").code(), "name_mixed_scripts");
        assert_eq!(
            err("さくらsan").to_string(),
            "a player name must use one writing system (this one mixes Japanese and Latin)"
        );
        // Japanese mixes Han, Hiragana and Katakana as one writing system; Korean mixes
        // Hangul and Han.
        ok("漢字かなカナ");
        ok("김漢");
    }

    #[test]
    fn keys_ignore_case() {
        let alice = key("Alice");
        for raw in ["ALICE", "alice", "aLiCe", "Ａｌｉｃｅ"] {
            assert_eq!(key(raw), alice, "{raw:?}");
        }
        assert_eq!(key("Straße"), key("STRASSE"));
        assert_eq!(key("ΟΔΟΣ"), key("οδος"));
        assert_eq!(key("Ωμέγα_1"), key("ΩΜΈΓΑ_1"));
        assert_ne!(key("Alice"), key("Alice2"));
        assert_ne!(key("Alice Smith"), key("AliceSmith"));
        assert_ne!(key("Bob"), key("Rob"));
    }

    #[test]
    fn keys_ignore_look_alikes() {
        // Capital I for small l, in any case.
        let alice = key("Alice");
        assert_eq!(key("AIice"), alice);
        assert_eq!(key("AIICE"), alice);
        assert_eq!(key("A1ice"), alice);
        // Digit zero for O, "rn" for "m".
        assert_eq!(key("0scar"), key("Oscar"));
        assert_eq!(key("rnike"), key("Mike"));
        assert_eq!(key("rnike"), key("MIKE"));
        // Whole-script look-alikes: a Cyrillic-only name that reads as a Latin one.
        assert_eq!(key("\u{0441}\u{043E}\u{0440}\u{0435}"), key("cope"));
        assert_eq!(key("\u{0421}\u{041E}\u{0420}\u{0415}"), key("COPE"));
        // And different-looking names stay apart.
        assert_ne!(key("Oscar"), key("Oskar"));
    }

    #[test]
    fn error_codes_are_stable_snake_case() {
        let errors = [
            NameError::Empty,
            NameError::TooLong { chars: 30 },
            NameError::InvalidCharacter { ch: '!' },
            NameError::StrayMark { ch: '\u{301}' },
            NameError::TooManyMarks { max: 4 },
            NameError::NoLetterOrDigit,
            NameError::MixedScripts {
                first: "Latin",
                second: "Greek",
            },
        ];
        for e in errors {
            let code = e.code();
            assert!(code.starts_with("name_"), "{code}");
            assert!(
                code.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{code}"
            );
            assert!(!e.to_string().is_empty());
        }
        assert_eq!(
            NameError::StrayMark { ch: '\u{301}' }.to_string(),
            "the combining mark U+0301 must follow a letter in a player name"
        );
    }

    #[test]
    fn parses_through_from_str() {
        let name: PlayerName = "  Bob ".parse().unwrap();
        assert_eq!(name.as_str(), "Bob");
        assert_eq!(name.as_ref(), "Bob");
        assert!("".parse::<PlayerName>().is_err());
    }
}
