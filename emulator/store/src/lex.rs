//! A token cursor over `sqlparser`'s MySQL tokenizer. StarRocks-only statements (its
//! `CREATE TABLE` clauses, `SHOW`, `GRANT ... TO USER`, `DESC`) are not in sqlparser's grammar, so
//! they are parsed by small recursive-descent code over these tokens; quoting, escapes and
//! comments are still handled by the tokenizer rather than by hand.

use sqlparser::dialect::MySqlDialect;
use sqlparser::tokenizer::{Token, Tokenizer};

use crate::error::SqlError;

pub struct Cursor {
    toks: Vec<Token>,
    pos: usize,
    eof: Token,
}

impl Cursor {
    pub fn new(sql: &str) -> Result<Cursor, SqlError> {
        let toks = Tokenizer::new(&MySqlDialect {}, sql)
            .tokenize()
            .map_err(|e| SqlError::syntax(&format!("{e}")))?;
        let mut toks: Vec<Token> = toks
            .into_iter()
            .filter(|t| !matches!(t, Token::Whitespace(_)))
            .collect();
        while matches!(toks.last(), Some(Token::SemiColon)) {
            toks.pop();
        }
        Ok(Cursor {
            toks,
            pos: 0,
            eof: Token::EOF,
        })
    }

    pub fn peek(&self) -> &Token {
        self.toks.get(self.pos).unwrap_or(&self.eof)
    }

    pub fn peek_at(&self, n: usize) -> &Token {
        self.toks.get(self.pos + n).unwrap_or(&self.eof)
    }

    pub fn next(&mut self) -> Token {
        let t = self.peek().clone();
        if self.pos < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.toks.len()
    }

    pub fn is_kw_at(&self, n: usize, kw: &str) -> bool {
        matches!(self.peek_at(n), Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(kw))
    }

    pub fn is_kw(&self, kw: &str) -> bool {
        self.is_kw_at(0, kw)
    }

    pub fn eat_kw(&mut self, kw: &str) -> bool {
        if self.is_kw(kw) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Eats the whole keyword sequence or nothing.
    pub fn eat_kws(&mut self, kws: &[&str]) -> bool {
        if kws.iter().enumerate().all(|(i, k)| self.is_kw_at(i, k)) {
            self.pos += kws.len();
            true
        } else {
            false
        }
    }

    pub fn expect_kw(&mut self, kw: &str) -> Result<(), SqlError> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            Err(self.unexpected(kw))
        }
    }

    pub fn eat(&mut self, t: &Token) -> bool {
        if self.peek() == t {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    pub fn expect(&mut self, t: &Token) -> Result<(), SqlError> {
        if self.eat(t) {
            Ok(())
        } else {
            Err(self.unexpected(&t.to_string()))
        }
    }

    pub fn expect_end(&self) -> Result<(), SqlError> {
        if self.at_end() {
            Ok(())
        } else {
            Err(self.unexpected("end of statement"))
        }
    }

    pub fn unexpected(&self, wanted: &str) -> SqlError {
        let got = if self.at_end() {
            "end of statement".to_string()
        } else {
            format!("'{}'", self.peek())
        };
        SqlError::syntax(&format!(
            "Unexpected input {got}, the most similar input is {{{wanted}}}."
        ))
    }

    /// An identifier: a bare word, a `backquoted` name, or (as MySQL allows for names) a string.
    pub fn ident(&mut self) -> Result<String, SqlError> {
        match self.peek().clone() {
            Token::Word(w) => {
                self.pos += 1;
                Ok(w.value)
            }
            Token::SingleQuotedString(s) | Token::DoubleQuotedString(s) => {
                self.pos += 1;
                Ok(s)
            }
            _ => Err(self.unexpected("identifier")),
        }
    }

    /// `name` or `db.name`.
    pub fn object_name(&mut self) -> Result<(Option<String>, String), SqlError> {
        let first = self.ident()?;
        if self.eat(&Token::Period) {
            let second = self.ident()?;
            Ok((Some(first), second))
        } else {
            Ok((None, first))
        }
    }

    pub fn string(&mut self) -> Result<String, SqlError> {
        match self.next() {
            Token::SingleQuotedString(s) | Token::DoubleQuotedString(s) => Ok(s),
            _ => {
                self.pos -= 1;
                Err(self.unexpected("string literal"))
            }
        }
    }

    pub fn number(&mut self) -> Result<String, SqlError> {
        match self.peek().clone() {
            Token::Number(n, _) => {
                self.pos += 1;
                Ok(n)
            }
            _ => Err(self.unexpected("number")),
        }
    }

    pub fn u32(&mut self) -> Result<u32, SqlError> {
        let n = self.number()?;
        n.parse()
            .map_err(|_| SqlError::syntax(&format!("Invalid number '{n}'")))
    }

    /// `( a, b, ... )` of identifiers.
    pub fn ident_list(&mut self) -> Result<Vec<String>, SqlError> {
        self.expect(&Token::LParen)?;
        let mut out = vec![self.ident()?];
        while self.eat(&Token::Comma) {
            out.push(self.ident()?);
        }
        self.expect(&Token::RParen)?;
        Ok(out)
    }

    /// Skips a balanced `( ... )` group starting at the cursor.
    pub fn skip_parens(&mut self) -> Result<(), SqlError> {
        self.expect(&Token::LParen)?;
        let mut depth = 1;
        while depth > 0 {
            match self.next() {
                Token::LParen => depth += 1,
                Token::RParen => depth -= 1,
                Token::EOF => return Err(self.unexpected(")")),
                _ => {}
            }
        }
        Ok(())
    }

    /// Skips tokens (balancing parentheses) until one of `stops` is the next keyword at depth 0.
    pub fn skip_until_kw(&mut self, stops: &[&str]) {
        let mut depth = 0i32;
        while !self.at_end() {
            if depth == 0 && stops.iter().any(|k| self.is_kw(k)) {
                return;
            }
            match self.next() {
                Token::LParen => depth += 1,
                Token::RParen => depth -= 1,
                _ => {}
            }
        }
    }
}
