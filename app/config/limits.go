package config

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"
)

// Limits protect the API from floods: body sizes, request rates per client and per address.
type Limits struct {
	// BodyBytes caps request bodies on every route but the campaign upload, which has its own
	// (INCASSO_BODY_LIMIT, e.g. 2M, 512K or bytes).
	BodyBytes int64
	// PerIP limits the requests of each client address (INCASSO_RATE_PER_IP, requests per
	// second, and INCASSO_RATE_PER_IP_BURST); PerClient those of each API client, by key or
	// console session (INCASSO_RATE_PER_CLIENT, INCASSO_RATE_PER_CLIENT_BURST); Login the
	// console's login attempts of each address (INCASSO_LOGIN_PER_MINUTE, burst the same).
	PerIP, PerClient, Login Rate
	// TrustedProxies are the reverse proxies whose X-Forwarded-For tells the client's address
	// (INCASSO_TRUSTED_PROXIES, IPs and CIDRs); without them the address is the TCP peer's.
	TrustedProxies []netip.Prefix
}

// Rate is a token bucket: PerSecond tokens a second, up to Burst. A zero PerSecond means no
// limit.
type Rate struct {
	PerSecond float64
	Burst     int
}

// RetryAfter is how long a refused request should wait for a token: at least a second.
func (r Rate) RetryAfter() time.Duration {
	if r.PerSecond <= 0 {
		return time.Second
	}
	return time.Duration(math.Max(1, math.Ceil(1/r.PerSecond))) * time.Second
}

// limitsFromEnv reads the limits.
func limitsFromEnv() (Limits, error) {
	var l Limits
	var errs []error
	var err error
	if l.BodyBytes, err = parseSize(env("INCASSO_BODY_LIMIT", "2M")); err != nil || l.BodyBytes < 1<<10 {
		errs = append(errs, errors.New("INCASSO_BODY_LIMIT: want a size of at least 1K, such as 2M or 512K"))
	}
	for _, r := range []struct {
		rate, burst string
		defRate     string
		defBurst    int
		perMinute   bool
		to          *Rate
	}{
		{"INCASSO_RATE_PER_IP", "INCASSO_RATE_PER_IP_BURST", "100", 200, false, &l.PerIP},
		{"INCASSO_RATE_PER_CLIENT", "INCASSO_RATE_PER_CLIENT_BURST", "50", 100, false, &l.PerClient},
		{"INCASSO_LOGIN_PER_MINUTE", "", "10", 0, true, &l.Login},
	} {
		v, err := strconv.ParseFloat(env(r.rate, r.defRate), 64)
		if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
			errs = append(errs, fmt.Errorf("%s: want a number of requests such as 50 or 0.5, or 0 for no limit", r.rate))
			continue
		}
		if r.perMinute {
			*r.to = Rate{PerSecond: v / 60, Burst: int(math.Ceil(v))}
			continue
		}
		b, err := strconv.Atoi(env(r.burst, strconv.Itoa(r.defBurst)))
		if err != nil || b < 1 {
			errs = append(errs, fmt.Errorf("%s: want a whole number of requests >= 1", r.burst))
		}
		*r.to = Rate{PerSecond: v, Burst: b}
	}
	if l.TrustedProxies, err = parsePrefixes("INCASSO_TRUSTED_PROXIES"); err != nil {
		errs = append(errs, err)
	}
	return l, errors.Join(errs...)
}

// parseSize reads a size in bytes, with an optional K, M or G suffix (powers of 1024).
func parseSize(s string) (int64, error) {
	mult := int64(1)
	switch strings.ToUpper(s[len(s)-1:]) {
	case "K":
		mult = 1 << 10
	case "M":
		mult = 1 << 20
	case "G":
		mult = 1 << 30
	}
	if mult > 1 {
		s = s[:len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("%q is not a size", s)
	}
	return n * mult, nil
}

// parsePrefixes reads the variable's comma-separated IPs and CIDR networks.
func parsePrefixes(variable string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	var errs []error
	for _, item := range strings.Split(os.Getenv(variable), ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		p, err := parsePrefix(item)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is neither an IP address nor a CIDR network", variable, item))
			continue
		}
		out = append(out, p)
	}
	return out, errors.Join(errs...)
}

// parsePrefix reads a CIDR network, or an IP address as the network of that address alone.
func parsePrefix(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}
