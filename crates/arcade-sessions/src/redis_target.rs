//! Where Redis is: one server (`redis://[:password@]host:port[/db]`), or the primary that a set
//! of Sentinels name (`redis+sentinel://[:password@]host:port,host:port,.../service[/db]`),
//! with a password that may come apart from the URL (a Kubernetes Secret).
//!
//! The `redis` crate connects to Sentinels but reads no URL for them: the Sentinel form is the
//! one clients of other languages share (go-redis, Lettuce, Sidekiq), parsed here. Errors never
//! show the URL or the password.

use std::fmt;

use redis::{ConnectionAddr, IntoConnectionInfo};

/// Scheme of the Sentinel form of `REDIS_URL`.
pub const SENTINEL_SCHEME: &str = "redis+sentinel://";
/// Port of a Sentinel given without one.
pub const SENTINEL_PORT: u16 = 26379;

/// A Redis deployment to connect to, parsed and checked.
#[derive(Clone)]
pub enum RedisTarget {
    /// One server; its password, if any, is inside the connection info.
    Server(redis::ConnectionInfo),
    /// The primary of `service`, as the Sentinels at `sentinels` name it. The password is the
    /// Sentinels' and the servers' alike (one Secret for both, as the charts deploy them).
    Sentinel {
        sentinels: Vec<(String, u16)>,
        service: String,
        db: i64,
        username: Option<String>,
        password: Option<String>,
    },
}

impl fmt::Debug for RedisTarget {
    // Never the password; the rest says which deployment.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Server(info) => f
                .debug_struct("Server")
                .field("addr", &info.addr().to_string())
                .field("db", &info.redis_settings().db())
                .finish_non_exhaustive(),
            Self::Sentinel {
                sentinels,
                service,
                db,
                ..
            } => f
                .debug_struct("Sentinel")
                .field("sentinels", sentinels)
                .field("service", service)
                .field("db", db)
                .finish_non_exhaustive(),
        }
    }
}

/// Why a Redis URL cannot be used. Says which part is wrong, never its value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedisTargetError {
    #[error("it is not a redis:// or redis+sentinel:// URL the Redis client reads")]
    Server,
    #[error("a redis+sentinel:// URL needs at least one Sentinel host")]
    NoSentinel,
    #[error("a Sentinel address is not host[:port] (or [IPv6]:port)")]
    SentinelAddress,
    #[error("a redis+sentinel:// URL needs the service (master) name as its path: /SERVICE[/DB]")]
    NoService,
    #[error("the database after the service name is not a number")]
    Database,
    #[error("the user or password is not valid percent-encoding")]
    Encoding,
}

impl RedisTarget {
    /// Parse `url`; a `password` given apart (from a Secret) is used instead of one in the URL.
    pub fn parse(url: &str, password: Option<&str>) -> Result<Self, RedisTargetError> {
        let password = password.filter(|p| !p.is_empty());
        match url.strip_prefix(SENTINEL_SCHEME) {
            Some(rest) => Self::parse_sentinel(rest, password),
            None => {
                let info = url
                    .into_connection_info()
                    .map_err(|_| RedisTargetError::Server)?;
                Ok(Self::Server(match password {
                    Some(p) => {
                        let settings = info.redis_settings().clone().set_password(p);
                        info.set_redis_settings(settings)
                    }
                    None => info,
                }))
            }
        }
    }

    fn parse_sentinel(rest: &str, password: Option<&str>) -> Result<Self, RedisTargetError> {
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (userinfo, hosts) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (username, url_password) = match userinfo {
            None => (None, None),
            Some(u) => {
                let (user, pass) = u.split_once(':').unwrap_or((u, ""));
                (decode(user)?, decode(pass)?)
            }
        };
        let sentinels = hosts
            .split(',')
            .filter(|h| !h.is_empty())
            .map(sentinel_address)
            .collect::<Result<Vec<_>, _>>()?;
        if sentinels.is_empty() {
            return Err(RedisTargetError::NoSentinel);
        }
        let path = path.split(['?', '#']).next().unwrap_or_default();
        let mut parts = path.split('/');
        let service = parts
            .next()
            .filter(|s| !s.is_empty())
            .ok_or(RedisTargetError::NoService)?
            .to_owned();
        let db = match parts.next().filter(|d| !d.is_empty()) {
            Some(d) => d.parse().map_err(|_| RedisTargetError::Database)?,
            None => 0,
        };
        if parts.next().is_some() {
            return Err(RedisTargetError::Database);
        }
        Ok(Self::Sentinel {
            sentinels,
            service,
            db,
            username,
            password: password.map(str::to_owned).or(url_password),
        })
    }

    /// Whether the primary is found through Sentinels (and followed across failovers).
    pub fn is_sentinel(&self) -> bool {
        matches!(self, Self::Sentinel { .. })
    }

    /// The Sentinel client that finds the current primary; `None` for one server.
    pub(crate) fn sentinel_client(
        &self,
    ) -> redis::RedisResult<Option<redis::sentinel::SentinelClient>> {
        let Self::Sentinel {
            sentinels,
            service,
            db,
            username,
            password,
        } = self
        else {
            return Ok(None);
        };
        let addrs = sentinels
            .iter()
            .map(|(host, port)| ConnectionAddr::Tcp(host.clone(), *port));
        let mut builder = redis::sentinel::SentinelClientBuilder::new(
            addrs,
            service,
            redis::sentinel::SentinelServerType::Master,
        )?
        .set_client_to_redis_db(*db);
        if let Some(user) = username {
            builder = builder.set_client_to_redis_username(user);
        }
        if let Some(password) = password {
            builder = builder
                .set_client_to_redis_password(password)
                .set_client_to_sentinel_password(password);
        }
        builder.build().map(Some)
    }
}

fn decode(raw: &str) -> Result<Option<String>, RedisTargetError> {
    if raw.is_empty() {
        return Ok(None);
    }
    percent_decode(raw).map(Some)
}

/// Percent-decoding of the userinfo (a password may hold `@`, `:` or `/`).
fn percent_decode(raw: &str) -> Result<String, RedisTargetError> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = raw.get(i + 1..i + 3).ok_or(RedisTargetError::Encoding)?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| RedisTargetError::Encoding)?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| RedisTargetError::Encoding)
}

fn sentinel_address(raw: &str) -> Result<(String, u16), RedisTargetError> {
    let (host, port) = if let Some(rest) = raw.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or(RedisTargetError::SentinelAddress)?;
        match after.strip_prefix(':') {
            Some(port) => (host, Some(port)),
            None if after.is_empty() => (host, None),
            None => return Err(RedisTargetError::SentinelAddress),
        }
    } else {
        match raw.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (raw, None),
        }
    };
    let valid_host = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._:".contains(c));
    if !valid_host {
        return Err(RedisTargetError::SentinelAddress);
    }
    let port = match port {
        Some(p) => p.parse().map_err(|_| RedisTargetError::SentinelAddress)?,
        None => SENTINEL_PORT,
    };
    Ok((host.to_owned(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sentinel_form_names_every_sentinel_the_service_and_the_database() {
        let target = RedisTarget::parse(
            "redis+sentinel://:s%40cret@sentinel-0:26379,sentinel-1,[::1]:26380/arcade/2",
            None,
        )
        .unwrap();
        let RedisTarget::Sentinel {
            sentinels,
            service,
            db,
            username,
            password,
        } = target
        else {
            panic!("a Sentinel target")
        };
        assert_eq!(
            sentinels,
            vec![
                ("sentinel-0".to_owned(), 26379),
                ("sentinel-1".to_owned(), SENTINEL_PORT),
                ("::1".to_owned(), 26380)
            ]
        );
        assert_eq!((service.as_str(), db), ("arcade", 2));
        assert_eq!(username, None);
        assert_eq!(password.as_deref(), Some("s@cret"));
    }

    #[test]
    fn a_password_given_apart_wins_over_the_one_in_the_url() {
        let target = RedisTarget::parse("redis+sentinel://:old@s:26379/arcade", Some("new"));
        assert!(
            matches!(target, Ok(RedisTarget::Sentinel { password: Some(p), .. }) if p == "new")
        );
        let target = RedisTarget::parse("redis://:old@redis:6379/1", Some("new")).unwrap();
        let RedisTarget::Server(info) = target else {
            panic!("one server")
        };
        assert_eq!(info.redis_settings().password(), Some("new"));
        assert_eq!(info.redis_settings().db(), 1);
        // An empty password (an unset Secret key rendered as "") is no password.
        let target = RedisTarget::parse("redis://:kept@redis:6379", Some("")).unwrap();
        let RedisTarget::Server(info) = target else {
            panic!("one server")
        };
        assert_eq!(info.redis_settings().password(), Some("kept"));
    }

    #[test]
    fn broken_sentinel_urls_are_refused_without_showing_them() {
        for (url, error) in [
            ("redis+sentinel:///arcade", RedisTargetError::NoSentinel),
            ("redis+sentinel://s:26379", RedisTargetError::NoService),
            ("redis+sentinel://s:26379/", RedisTargetError::NoService),
            (
                "redis+sentinel://:hunter2@s:port/arcade",
                RedisTargetError::SentinelAddress,
            ),
            ("redis+sentinel://s/arcade/x", RedisTargetError::Database),
            ("redis+sentinel://:%zz@s/arcade", RedisTargetError::Encoding),
        ] {
            let e = RedisTarget::parse(url, None).unwrap_err();
            assert_eq!(e, error, "{url}");
            assert!(!e.to_string().contains("hunter2"));
        }
        assert_eq!(
            RedisTarget::parse("mysql://hunter2@db", None).unwrap_err(),
            RedisTargetError::Server
        );
    }

    #[test]
    fn debug_output_shows_no_password() {
        for url in [
            "redis+sentinel://:hunter2@s:26379/arcade",
            "redis://:hunter2@redis:6379",
        ] {
            let shown = format!("{:?}", RedisTarget::parse(url, None).unwrap());
            assert!(!shown.contains("hunter2"), "{shown}");
        }
    }
}
