//! Where `stampede load` sends: a URL the user named, checked before any
//! request goes out.
//!
//! Only plain `http://` is spoken (stampede carries no TLS stack); a class's
//! requests go to the URL's path followed by `/<class>`. Nothing else is ever
//! contacted: the hyper client connects only to the hosts of these URLs.

use std::time::Duration;

use tokio::net::TcpStream;

/// A target URL, split into what the client needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetUrl {
    /// `http://host:port/base`, without a trailing slash: a class's path follows.
    pub prefix: String,
    /// `host:port`, for the check that something listens there.
    pub authority: String,
}

impl TargetUrl {
    /// `http://HOST[:PORT][/BASE]`. The port defaults to 80.
    pub fn parse(url: &str) -> Result<TargetUrl, String> {
        let uri: hyper::Uri = url.parse().map_err(|e| format!("`{url}` is not a URL ({e})"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => {
                return Err(format!(
                    "`{url}`: stampede speaks plain HTTP/1.1 only (no TLS); put a TLS-terminating proxy in front or use http://"
                ));
            }
            _ => return Err(format!("`{url}`: write it as http://HOST:PORT[/PATH]")),
        }
        let host = uri.host().filter(|h| !h.is_empty()).ok_or_else(|| format!("`{url}` has no host"))?;
        if uri.query().is_some() {
            return Err(format!("`{url}`: a target has no query string (a class's path follows the URL's path)"));
        }
        // Refused rather than dropped: neither would ever be sent.
        if url.contains('#') {
            return Err(format!("`{url}`: a target has no fragment (#…); it is never sent"));
        }
        if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
            return Err(format!("`{url}`: stampede sends no credentials (user:password@); name the host alone"));
        }
        // From the authority's text: the parsed port is silently absent when out of range.
        let written = uri
            .authority()
            .map_or("", |a| a.as_str())
            .rsplit_once(']')
            .map_or_else(|| uri.authority().map_or("", |a| a.as_str()), |(_, after)| after);
        let port = match written.rsplit_once(':') {
            Some((_, p)) => p.parse::<u16>().map_err(|_| format!("`{url}`: `{p}` is not a port number"))?,
            None => 80,
        };
        let host = if host.contains(':') && !host.starts_with('[') { format!("[{host}]") } else { host.to_string() };
        let authority = format!("{host}:{port}");
        let path = uri.path().trim_end_matches('/');
        Ok(TargetUrl { prefix: format!("http://{authority}{path}"), authority })
    }

    /// Connects once and hangs up: a target nobody listens at is reported
    /// before the run, not discovered as thousands of failed requests.
    pub async fn check(&self, within: Duration) -> Result<(), String> {
        let addr = self.authority.replace(['[', ']'], "");
        match tokio::time::timeout(within, TcpStream::connect(addr.as_str())).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(format!("cannot connect to {}: {e}", self.prefix)),
            Err(_) => Err(format!("cannot connect to {}: no answer within {}s", self.prefix, within.as_secs())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_become_a_prefix_and_an_authority() {
        let t = TargetUrl::parse("http://127.0.0.1:6081").expect("valid");
        assert_eq!((t.prefix.as_str(), t.authority.as_str()), ("http://127.0.0.1:6081", "127.0.0.1:6081"));
        let t = TargetUrl::parse("http://staging.internal/api/v1/").expect("valid");
        assert_eq!(t.prefix, "http://staging.internal:80/api/v1");
    }

    #[test]
    fn tls_queries_and_hostless_urls_are_refused_with_the_reason() {
        assert!(TargetUrl::parse("https://example.com").expect_err("https").contains("no TLS"));
        assert!(TargetUrl::parse("http://h:1/x?y=1").expect_err("query").contains("query"));
        assert!(TargetUrl::parse("http://h:1/x#top").expect_err("fragment").contains("fragment"));
        assert!(TargetUrl::parse("http://u:pw@h:1/").expect_err("userinfo").contains("no credentials"));
        assert!(TargetUrl::parse("localhost:8080").expect_err("no scheme").contains("http://"));
        assert!(TargetUrl::parse("http://h:99999").is_err());
    }
}
