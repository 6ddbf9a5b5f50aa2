//! Bounds how deeply a policy or schema file nests before its text reaches
//! Cedar: Cedar's parser recurses once per bracket and overflows the stack
//! (an abort, with no location) at a few dozen levels on a 2 MiB thread in
//! a debug build, and its level check copies the `then` branch of an `if`
//! whose condition is a constant, so nested `if`s cost twice as much per
//! level. The scanner here is linear and never recurses.

/// What a file nests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nest {
    /// `(`, `[`, `{` (and `<` in a schema).
    Bracket,
    /// `if … then … else …`.
    If,
}

/// The deepest nesting a file may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Brackets of any kind, counted together.
    pub brackets: usize,
    /// `if` expressions inside each other (through brackets too).
    pub ifs: usize,
    /// Whether `<` and `>` are brackets (`Set<…>` in a schema).
    pub angles: bool,
}

/// Limits for `*.cedar` files. The default pack nests 4 brackets and 5
/// `if`s (an `else if` chain) deep. Cedar's parser overflows a 2 MiB
/// debug-build thread at about 34 brackets; its level check on nested
/// `if true then …` takes 30 ms at 12 levels and 0.4 s at 16 (debug build),
/// doubling with each further one.
pub const POLICY: Limits = Limits {
    brackets: 16,
    ifs: 12,
    angles: false,
};

/// Limits for `schema.cedarschema`. The default schema nests 3 deep; the
/// schema parser overflows a 2 MiB debug-build thread somewhere between
/// 128 and 600 nested record types.
pub const SCHEMA: Limits = Limits {
    brackets: 32,
    ifs: 0,
    angles: true,
};

/// The first place a file nests deeper than its limits allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooDeep {
    /// Byte offset of the bracket or `if` that goes one level too deep.
    pub offset: usize,
    /// Its length in bytes.
    pub len: usize,
    /// What nests too deeply.
    pub nest: Nest,
    /// The limit it exceeds.
    pub limit: usize,
}

/// Where an `if` is: it closes at the end of its `else` branch, which the
/// scanner sees as the next `,`, `;`, closing bracket, or `then`/`else` of
/// an enclosing `if`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Cond,
    Then,
    Else,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    Bracket,
    If(Part),
}

/// The deepest nesting of `text`, or the first place it exceeds `limits`.
/// Text inside string literals and `//` comments is skipped. Malformed text
/// is scanned leniently: Cedar's parser reports it afterwards.
pub fn check(text: &str, limits: Limits) -> Result<(usize, usize), TooDeep> {
    let bytes = text.as_bytes();
    let mut stack: Vec<Open> = Vec::new();
    let (mut brackets, mut ifs) = (0usize, 0usize);
    let (mut max_brackets, mut max_ifs) = (0usize, 0usize);
    // Pops the `if`s whose `else` branch ends here.
    let close_ifs = |stack: &mut Vec<Open>, ifs: &mut usize, all: bool| {
        while let Some(Open::If(part)) = stack.last() {
            if !all && *part != Part::Else {
                break;
            }
            stack.pop();
            *ifs -= 1;
        }
    };
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'(' | b'[' | b'{' | b'<' if b != b'<' || limits.angles => {
                brackets += 1;
                if brackets > limits.brackets {
                    return Err(TooDeep {
                        offset: i,
                        len: 1,
                        nest: Nest::Bracket,
                        limit: limits.brackets,
                    });
                }
                max_brackets = max_brackets.max(brackets);
                stack.push(Open::Bracket);
            }
            b')' | b']' | b'}' | b'>' if b != b'>' || limits.angles => {
                close_ifs(&mut stack, &mut ifs, true);
                if stack.pop().is_some() {
                    brackets -= 1;
                }
            }
            b',' | b';' => close_ifs(&mut stack, &mut ifs, true),
            _ if b.is_ascii_alphabetic() || b == b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                match &text[start..i] {
                    "if" => {
                        ifs += 1;
                        if ifs > limits.ifs {
                            return Err(TooDeep {
                                offset: start,
                                len: 2,
                                nest: Nest::If,
                                limit: limits.ifs,
                            });
                        }
                        max_ifs = max_ifs.max(ifs);
                        stack.push(Open::If(Part::Cond));
                    }
                    word @ ("then" | "else") => {
                        close_ifs(&mut stack, &mut ifs, false);
                        if let Some(Open::If(part)) = stack.last_mut() {
                            *part = if word == "then" {
                                Part::Then
                            } else {
                                Part::Else
                            };
                        }
                    }
                    _ => {}
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    Ok((max_brackets, max_ifs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth(text: &str) -> (usize, usize) {
        let unlimited = Limits {
            brackets: usize::MAX,
            ifs: usize::MAX,
            angles: false,
        };
        check(text, unlimited).expect("no limit")
    }

    #[test]
    fn brackets_of_every_kind_count_together() {
        assert_eq!(depth("when { ([{a: 1}]) }"), (4, 0));
        assert_eq!(depth("(a)(b)[c]"), (1, 0));
    }

    #[test]
    fn strings_and_comments_are_skipped() {
        assert_eq!(
            depth(r#"@id("((((") when { "\"(((" == "a" } // (((("#),
            (1, 0)
        );
        assert_eq!(depth("// if if if\nwhen { true }"), (1, 0));
        assert_eq!(depth(r#"when { resource.name == "if if" }"#), (1, 0));
    }

    #[test]
    fn an_if_closes_at_the_end_of_its_else_branch() {
        // Side by side, not nested.
        assert_eq!(
            depth("when { (if a then b else c) && (if d then e else f) }"),
            (2, 1)
        );
        assert_eq!(
            depth("when { [if a then b else c, if d then e else f] }"),
            (2, 1)
        );
        // In the condition: the inner one ends at the outer `then`.
        assert_eq!(
            depth("when { if if a then b else c then d else e }"),
            (1, 2)
        );
        assert_eq!(
            depth("when { if x then if a then b else c else if d then e else f }"),
            (1, 2)
        );
        // An `else if` chain nests (Cedar's tree does).
        assert_eq!(
            depth("when { if a then b else if c then d else e }"),
            (1, 2)
        );
        // Words that only contain `if`.
        assert_eq!(depth("when { iff && elif && if_ }"), (1, 0));
    }

    #[test]
    fn the_first_place_too_deep_is_reported() {
        let text = format!("when {{ {}true{} }}", "(".repeat(20), ")".repeat(20));
        let err = check(&text, POLICY).expect_err("too deep");
        assert_eq!(err.nest, Nest::Bracket);
        assert_eq!(err.offset, "when { ".len() + 15);
        let text = format!(
            "when {{ {} }}",
            (0..=POLICY.ifs).fold("a".to_string(), |e, _| format!("if true then {e} else b"))
        );
        let err = check(&text, POLICY).expect_err("too deep");
        assert_eq!(err.nest, Nest::If);
        assert_eq!(
            err.offset,
            "when { ".len() + POLICY.ifs * "if true then ".len()
        );
    }

    #[test]
    fn angle_brackets_count_only_in_a_schema() {
        assert_eq!(depth("when { a < (b) }"), (2, 0));
        let schema = "entity A { s: Set<Set<{ a: Long }>> };";
        let (brackets, _) = check(schema, SCHEMA).expect("within limits");
        assert_eq!(brackets, 4);
    }

    #[test]
    fn unterminated_text_does_not_panic() {
        for text in ["\"abc\\", "((((", "))))", "if then else", "\"", "//", "if"] {
            let _ = check(text, POLICY);
            let _ = check(text, SCHEMA);
        }
    }
}
