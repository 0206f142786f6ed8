package upstream

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"hash"
)

// A layer that shares answers between requests (coalescing, the cache) must
// key them on who asked, or one caller's rows would reach another; but never
// on the credential itself, which must not sit in a map, a log line or Redis.
// The key is an HMAC-SHA256 of the credential under a per-deployment secret
// (CACHE_KEY_SECRET): without the secret a key cannot be checked against a
// guessed token, and replicas that share a cache share the secret.

// secretBytes is the length of a generated secret.
const secretBytes = 32

// WithCacheKeySecret sets the secret that caller digests are made with.
// Replicas sharing a cache must have the same one; without it each client
// draws a random one, which is right for a single process.
func WithCacheKeySecret(secret []byte) Option {
	return func(c *Client) {
		if len(secret) > 0 {
			c.keySecret = append([]byte(nil), secret...)
		}
	}
}

// randomSecret draws a secret for a client that was given none.
func randomSecret() []byte {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		panic("upstream: no randomness for the cache key secret: " + err.Error())
	}
	return b
}

// callerDigest names the caller of ctx (its Authorization, or the default
// token) without revealing it: the same caller always gets the same digest
// under one secret, different callers different ones. A caller without any
// credential gets the digest of the empty string, which is a caller too.
func (c *Client) callerDigest(ctx context.Context) string {
	cred := credentialOf(ctx)
	if cred == nil {
		return c.defaultDigest
	}
	cred.mu.Lock()
	defer cred.mu.Unlock()
	if cred.client != c {
		cred.client, cred.digest = c, c.digestOf(cred.header)
	}
	return cred.digest
}

// digestOf reuses its HMACs: keying a new one for every request was 5% of
// the CPU of a cached answer.
func (c *Client) digestOf(authorization string) string {
	mac, _ := c.macs.Get().(hash.Hash)
	if mac == nil {
		mac = hmac.New(sha256.New, c.keySecret)
	}
	defer c.macs.Put(mac)
	mac.Reset()
	mac.Write([]byte(authorization))
	var sum [sha256.Size]byte
	return base64.RawURLEncoding.EncodeToString(mac.Sum(sum[:0]))
}
