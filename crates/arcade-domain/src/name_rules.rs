//! The name deny list operators extend: words and patterns a new name may not contain.
//!
//! Rules are matched against a name's [key](crate::name::PlayerName::key), the form in which
//! case and look-alikes are folded ("ALICE", "AIice" and a Cyrillic "Аlice" share it), with
//! spaces, `_` and `-` left out, so that "b a d", "B_A_D" and "bad" are one word. A rule is
//! folded the same way when it is written: a word is read like a name, and the letters of a
//! pattern are replaced by their folded form, so an operator writes rules in plain letters.

use regex::{Regex, RegexBuilder};
use regex_syntax::ast::{
    self, Ast, ClassSet, ClassSetItem, Concat, Flags, Group, GroupKind, Literal, LiteralKind,
};
use serde::{Deserialize, Serialize};

use crate::DomainError;
use crate::name::{PlayerName, key_of};
use crate::time::Timestamp;

/// Longest rule as written, in characters.
pub const MAX_RULE_CHARS: usize = 200;
/// Most rules the list holds: each is tried on every new name.
pub const MAX_RULES: usize = 1000;
/// Most memory one compiled pattern may take: a pattern that compiles to more is refused
/// when it is written rather than slowing every claim.
const PATTERN_SIZE_LIMIT: usize = 1 << 16;
/// Deepest nesting of groups and repetitions a pattern may have.
const PATTERN_NEST_LIMIT: u32 = 16;

/// What a rule matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// A word found anywhere in a name.
    Word,
    /// A regular expression (the `regex` crate's syntax) searched for in a name.
    Pattern,
}

impl RuleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Word => "word",
            Self::Pattern => "pattern",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "word" => Some(Self::Word),
            "pattern" => Some(Self::Pattern),
            _ => None,
        }
    }
}

/// A rule as stored: what the operator wrote (`value`) and what it matches (`folded`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameRule {
    pub id: i64,
    pub kind: RuleKind,
    pub value: String,
    pub folded: String,
    pub created_at: Timestamp,
    /// Who added it: an operator's name, or `cli:USER`.
    pub created_by: String,
}

/// A rule to store; the store gives it its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNameRule {
    pub kind: RuleKind,
    pub value: String,
    pub folded: String,
    pub created_at: Timestamp,
    pub created_by: String,
}

/// A rule checked and folded, ready to match.
#[derive(Debug, Clone)]
pub struct ParsedRule {
    pub kind: RuleKind,
    /// What the operator wrote, normalised (a word as a name is, a pattern trimmed).
    pub value: String,
    /// What is matched: a word's folded letters, or the pattern with its letters folded.
    pub folded: String,
    matcher: Matcher,
}

#[derive(Debug, Clone)]
enum Matcher {
    Word(String),
    Pattern(Regex),
}

fn invalid(message: impl Into<String>) -> DomainError {
    DomainError::InvalidNameRule(message.into())
}

impl ParsedRule {
    /// Check and fold a rule as an operator writes it.
    pub fn parse(kind: RuleKind, raw: &str) -> Result<Self, DomainError> {
        if raw.chars().count() > MAX_RULE_CHARS {
            return Err(invalid(format!(
                "a rule is at most {MAX_RULE_CHARS} characters"
            )));
        }
        match kind {
            RuleKind::Word => {
                let name = PlayerName::parse(raw)
                    .map_err(|e| invalid(format!("a word is written like a name: {e}")))?;
                let folded = compact(name.key());
                if folded.is_empty() {
                    return Err(invalid("a word needs at least one letter or digit"));
                }
                Ok(Self {
                    kind,
                    value: name.as_str().to_owned(),
                    folded: folded.clone(),
                    matcher: Matcher::Word(folded),
                })
            }
            RuleKind::Pattern => {
                let value = raw.trim();
                if value.is_empty() {
                    return Err(invalid("a pattern cannot be empty"));
                }
                if value.chars().any(char::is_control) {
                    return Err(invalid(
                        "a pattern is one line without control characters (write \\n, \\t, … \
                         as escapes)",
                    ));
                }
                let folded = fold_pattern(value)?;
                let regex = RegexBuilder::new(&folded)
                    .case_insensitive(true)
                    .size_limit(PATTERN_SIZE_LIMIT)
                    .dfa_size_limit(PATTERN_SIZE_LIMIT)
                    .nest_limit(PATTERN_NEST_LIMIT)
                    .build()
                    .map_err(|e| match e {
                        regex::Error::CompiledTooBig(_) => {
                            invalid("the pattern is too large: write a simpler one")
                        }
                        e => invalid(format!("the pattern is not a regular expression: {e}")),
                    })?;
                // Such a pattern would refuse every name.
                if regex.is_match("") {
                    return Err(invalid(
                        "the pattern matches an empty name, so it would refuse every name",
                    ));
                }
                Ok(Self {
                    kind,
                    value: value.to_owned(),
                    folded,
                    matcher: Matcher::Pattern(regex),
                })
            }
        }
    }

    /// Whether the rule matches a name of this key.
    pub fn matches(&self, key: &str) -> bool {
        self.matches_compact(&compact(key))
    }

    fn matches_compact(&self, compact_key: &str) -> bool {
        match &self.matcher {
            Matcher::Word(word) => compact_key.contains(word.as_str()),
            Matcher::Pattern(regex) => regex.is_match(compact_key),
        }
    }
}

/// The rules in force, compiled: what a new name is checked against.
#[derive(Debug, Default, Clone)]
pub struct DenyList {
    rules: Vec<(i64, ParsedRule)>,
}

impl DenyList {
    /// The list of the stored `rules`. A stored rule this build no longer accepts (its limits
    /// are tighter than the build's that stored it) is left out and returned with the reason,
    /// so that one bad rule does not cost the others.
    pub fn build(rules: &[NameRule]) -> (Self, Vec<(i64, DomainError)>) {
        let mut list = Self::default();
        let mut refused = Vec::new();
        for rule in rules {
            match ParsedRule::parse(rule.kind, &rule.value) {
                Ok(parsed) => list.rules.push((rule.id, parsed)),
                Err(e) => refused.push((rule.id, e)),
            }
        }
        (list, refused)
    }

    /// The id of the first rule a name of this key matches, if any.
    pub fn matching(&self, key: &str) -> Option<i64> {
        let compact_key = compact(key);
        self.rules
            .iter()
            .find(|(_, rule)| rule.matches_compact(&compact_key))
            .map(|(id, _)| *id)
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

/// A key without the characters that only space a name out.
fn compact(key: &str) -> String {
    key.chars().filter(|c| !is_spacing(*c)).collect()
}

fn is_spacing(c: char) -> bool {
    matches!(c, ' ' | '_' | '-')
}

/// A pattern with every letter and digit outside brackets replaced by its folded form (a
/// group when that is not one character: "m" folds to "rn"), spacing characters dropped, and
/// letters inside brackets folded where they fold to one character.
fn fold_pattern(pattern: &str) -> Result<String, DomainError> {
    let mut tree = ast::parse::ParserBuilder::new()
        .nest_limit(PATTERN_NEST_LIMIT)
        .build()
        .parse(pattern)
        .map_err(|e| {
            invalid(format!(
                "the pattern is not a regular expression: {} (at character {})",
                e.kind(),
                e.span().start.column
            ))
        })?;
    fold_ast(&mut tree);
    let mut folded = String::new();
    ast::print::Printer::new()
        .print(&tree, &mut folded)
        .map_err(|_| invalid("the pattern could not be folded"))?;
    Ok(folded)
}

/// What one character of a pattern stands for in a key.
fn fold_char(c: char) -> String {
    if is_spacing(c) {
        String::new()
    } else if c.is_alphanumeric() {
        compact(&key_of(&c.to_string()))
    } else {
        c.to_string()
    }
}

fn literal(span: ast::Span, c: char) -> Literal {
    let kind = if regex_syntax::is_meta_character(c) {
        LiteralKind::Meta
    } else {
        LiteralKind::Verbatim
    };
    Literal { span, kind, c }
}

fn fold_ast(tree: &mut Ast) {
    match tree {
        Ast::Literal(lit) => {
            let folded = fold_char(lit.c);
            let mut chars = folded.chars();
            match (chars.next(), chars.next()) {
                (Some(one), None) if one == lit.c => {}
                (Some(one), None) => **lit = literal(lit.span, one),
                _ => {
                    // A group, so that a repetition after it still applies to all of it.
                    let span = lit.span;
                    let asts = folded
                        .chars()
                        .map(|c| Ast::literal(literal(span, c)))
                        .collect();
                    *tree = Ast::group(Group {
                        span,
                        kind: GroupKind::NonCapturing(Flags {
                            span,
                            items: Vec::new(),
                        }),
                        ast: Box::new(Concat { span, asts }.into_ast()),
                    });
                }
            }
        }
        Ast::ClassBracketed(class) => fold_class(&mut class.kind),
        Ast::Repetition(rep) => fold_ast(&mut rep.ast),
        Ast::Group(group) => fold_ast(&mut group.ast),
        Ast::Alternation(alt) => alt.asts.iter_mut().for_each(fold_ast),
        Ast::Concat(concat) => concat.asts.iter_mut().for_each(fold_ast),
        _ => {}
    }
}

fn fold_class(set: &mut ClassSet) {
    match set {
        ClassSet::Item(item) => fold_class_item(item),
        ClassSet::BinaryOp(op) => {
            fold_class(&mut op.lhs);
            fold_class(&mut op.rhs);
        }
    }
}

fn fold_class_item(item: &mut ClassSetItem) {
    match item {
        ClassSetItem::Literal(lit) => {
            let folded = fold_char(lit.c);
            let mut chars = folded.chars();
            if let (Some(one), None) = (chars.next(), chars.next()) {
                *lit = literal(lit.span, one);
            }
        }
        ClassSetItem::Bracketed(class) => fold_class(&mut class.kind),
        ClassSetItem::Union(union) => union.items.iter_mut().for_each(fold_class_item),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> String {
        PlayerName::parse(name).unwrap().key().to_owned()
    }

    fn rule(id: i64, kind: RuleKind, value: &str) -> NameRule {
        NameRule {
            id,
            kind,
            value: value.to_owned(),
            folded: String::new(),
            created_at: Timestamp(0),
            created_by: "ann".to_owned(),
        }
    }

    fn list(rules: &[(RuleKind, &str)]) -> DenyList {
        let rules: Vec<_> = rules
            .iter()
            .zip(1..)
            .map(|((kind, value), id)| rule(id, *kind, value))
            .collect();
        let (list, refused) = DenyList::build(&rules);
        assert!(refused.is_empty(), "{refused:?}");
        list
    }

    #[test]
    fn a_word_matches_any_case_and_look_alike_anywhere_in_a_name() {
        let list = list(&[(RuleKind::Word, "alice")]);
        for name in [
            "alice",
            "ALICE",
            "AIice",
            "A1ice",
            "xxAliceyy",
            "Ａｌｉｃｅ",
        ] {
            assert_eq!(list.matching(&key(name)), Some(1), "{name:?}");
        }
        // A Cyrillic-only name that reads as the word.
        let cyrillic = list_of_word("cope");
        assert_eq!(
            cyrillic.matching(&key("\u{0441}\u{043E}\u{0440}\u{0435}")),
            Some(1)
        );
        assert_eq!(list.matching(&key("Alison")), None);
        assert_eq!(list.matching(&key("Bob")), None);
    }

    fn list_of_word(word: &str) -> DenyList {
        list(&[(RuleKind::Word, word)])
    }

    #[test]
    fn spaces_underscores_and_dashes_do_not_split_a_word() {
        let list = list_of_word("bad word");
        for name in ["badword", "Bad Word", "b_a_d-w o r d", "xBADWORDx"] {
            assert_eq!(list.matching(&key(name)), Some(1), "{name:?}");
        }
        assert_eq!(list.matching(&key("bad")), None);
    }

    #[test]
    fn a_word_is_folded_as_it_is_written() {
        // Written with look-alikes, it matches the plain spelling too.
        let list = list_of_word("B00B");
        assert_eq!(list.matching(&key("boob")), Some(1));
        assert_eq!(list.matching(&key("BOOB_99")), Some(1));
        let parsed = ParsedRule::parse(RuleKind::Word, "  Ｂad  ").unwrap();
        assert_eq!(parsed.value, "Bad");
        assert_eq!(parsed.folded, "bad");
    }

    #[test]
    fn words_that_could_not_be_in_a_name_are_refused() {
        for bad in ["", "  ", "a.b", "__", "😀", &"a".repeat(25)] {
            let e = ParsedRule::parse(RuleKind::Word, bad).unwrap_err();
            assert_eq!(e.code(), "invalid_name_rule", "{bad:?}");
        }
    }

    #[test]
    fn a_pattern_is_matched_with_its_letters_folded() {
        let list = list(&[(RuleKind::Pattern, "^admin")]);
        for name in ["admin", "ADMIN", "AdMiN_42", "adrnin", "Adm1n", "ad min"] {
            assert_eq!(list.matching(&key(name)), Some(1), "{name:?}");
        }
        assert_eq!(list.matching(&key("the admin")), None, "anchored");
        assert_eq!(list.matching(&key("Bob")), None);
    }

    #[test]
    fn a_folded_pattern_keeps_its_repetitions_and_classes() {
        // "m" folds to two letters: the repetition still covers both.
        let parsed = ParsedRule::parse(RuleKind::Pattern, "^m+e$").unwrap();
        assert_eq!(parsed.folded, "^(?:rn)+e$");
        assert!(parsed.matches(&key("MMME")));
        assert!(parsed.matches(&key("me")));
        assert!(!parsed.matches(&key("mae")));
        // Inside brackets letters fold one for one, and ranges ignore case.
        let parsed = ParsedRule::parse(RuleKind::Pattern, "^[I]x[A-Z]{2}$").unwrap();
        assert!(parsed.matches(&key("lxab")));
        assert!(parsed.matches(&key("IXAB")));
        assert!(!parsed.matches(&key("lxabc")));
        // Escapes and digits in counts are left alone.
        let parsed = ParsedRule::parse(RuleKind::Pattern, r"x\d{0,1}y").unwrap();
        assert_eq!(parsed.folded, r"x\d{0,1}y");
    }

    #[test]
    fn alternatives_name_which_rule_matched() {
        let list = list(&[
            (RuleKind::Word, "spam"),
            (RuleKind::Pattern, "(nazi|hitler)"),
        ]);
        assert_eq!(list.matching(&key("SpamKing")), Some(1));
        assert_eq!(list.matching(&key("Hitler88")), Some(2));
        assert_eq!(list.matching(&key("Ham")), None);
        assert_eq!(list.len(), 2);
        assert!(DenyList::default().is_empty());
    }

    #[test]
    fn patterns_that_cannot_work_are_refused_with_a_reason() {
        let cases = [
            ("", "empty"),
            ("(unclosed", "not a regular expression"),
            ("a*", "every name"),
            ("x|", "every name"),
            ("tab\there", "control characters"),
        ];
        for (bad, why) in cases {
            let e = ParsedRule::parse(RuleKind::Pattern, bad).unwrap_err();
            assert_eq!(e.code(), "invalid_name_rule", "{bad:?}");
            assert!(e.to_string().contains(why), "{bad:?}: {e}");
        }
        let long = "a".repeat(MAX_RULE_CHARS + 1);
        assert!(ParsedRule::parse(RuleKind::Pattern, &long).is_err());
        let huge = r"\w{100}\w{100}\w{100}";
        let e = ParsedRule::parse(RuleKind::Pattern, huge).unwrap_err();
        assert!(e.to_string().contains("too large"), "{e}");
        let deep = format!("{}a{}", "(".repeat(20), ")".repeat(20));
        assert!(ParsedRule::parse(RuleKind::Pattern, &deep).is_err());
    }

    #[test]
    fn a_stored_rule_this_build_refuses_is_left_out_and_reported() {
        let rules = [
            rule(1, RuleKind::Word, "ok"),
            rule(2, RuleKind::Pattern, "(broken"),
        ];
        let (list, refused) = DenyList::build(&rules);
        assert_eq!(list.len(), 1);
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].0, 2);
    }

    #[test]
    fn rule_kinds_read_as_they_print() {
        for kind in [RuleKind::Word, RuleKind::Pattern] {
            assert_eq!(RuleKind::parse(kind.as_str()), Some(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
        assert_eq!(RuleKind::parse("regex"), None);
    }
}
