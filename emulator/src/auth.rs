//! HTTP Basic credentials as StarRocks reads them: `Authorization: Basic base64(user:password)`,
//! the user being everything before the first `:` (an empty password is `user:`).

use base64::Engine;
use hyper::HeaderMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub user: String,
    pub password: String,
}

/// None when the header is missing or not valid Basic auth.
pub fn basic(headers: &HeaderMap) -> Option<Credentials> {
    let v = headers.get(hyper::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = v.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(rest.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    if user.is_empty() {
        return None;
    }
    Some(Credentials { user: user.to_string(), password: password.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(v: &str) -> HeaderMap {
        let mut m = HeaderMap::new();
        m.insert("authorization", v.parse().unwrap());
        m
    }

    #[test]
    fn parses_basic_with_colon_in_password() {
        let enc = base64::engine::general_purpose::STANDARD.encode("root:a:b");
        assert_eq!(basic(&h(&format!("Basic {enc}"))), Some(Credentials { user: "root".into(), password: "a:b".into() }));
        let enc = base64::engine::general_purpose::STANDARD.encode("root:");
        assert_eq!(basic(&h(&format!("basic {enc}"))).unwrap().password, "");
    }

    #[test]
    fn rejects_other_schemes_and_garbage() {
        assert_eq!(basic(&h("Bearer abc")), None);
        assert_eq!(basic(&h("Basic !!!")), None);
        let enc = base64::engine::general_purpose::STANDARD.encode("nocolon");
        assert_eq!(basic(&h(&format!("Basic {enc}"))), None);
        assert_eq!(basic(&HeaderMap::new()), None);
    }
}
