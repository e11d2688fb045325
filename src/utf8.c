/*
 * utf8: a table-free strict decoder following RFC 3629 / Unicode 15
 * Table 3-7 (well-formed byte sequences).
 */
#include "utf8.h"

int
utf8_hidden(uint32_t cp)
{
	return (cp >= 0x80 && cp < 0xa0) || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 || cp == 0x2029 ||
	    cp == 0x200e || cp == 0x200f || cp == 0x61c;
}

int
utf8_decode(const char *s, size_t len, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t c, min;
	int n, i;

	if (len == 0)
		return 0;
	c = u[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		c &= 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		c &= 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		c &= 0x07;
		min = 0x10000;
	} else
		return -1;
	for (i = 1; i < n; i++) {
		if ((size_t)i >= len)
			return 0;
		if ((u[i] & 0xc0) != 0x80)
			return -1;
		c = (c << 6) | (u[i] & 0x3f);
		/* Reject overlong and out-of-range prefixes early so an
		 * incomplete tail is reported only when it could be valid. */
		if (i == 1) {
			if (n == 3 && u[0] == 0xe0 && u[1] < 0xa0)
				return -1;
			if (n == 3 && u[0] == 0xed && u[1] > 0x9f)
				return -1;
			if (n == 4 && u[0] == 0xf0 && u[1] < 0x90)
				return -1;
			if (n == 4 && u[0] == 0xf4 && u[1] > 0x8f)
				return -1;
		}
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return -1;
	*cp = c;
	return n;
}

int
utf8_encode(uint32_t cp, char *out)
{
	unsigned char *o = (unsigned char *)out;

	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = 0xfffd;
	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xc0 | (cp >> 6));
		o[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xe0 | (cp >> 12));
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (unsigned char)(0xf0 | (cp >> 18));
	o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

int
utf8_valid(const char *s, size_t len)
{
	size_t i = 0;
	uint32_t cp;

	while (i < len) {
		int n = utf8_decode(s + i, len - i, &cp);

		if (n <= 0)
			return 0;
		i += (size_t)n;
	}
	return 1;
}

size_t
utf8_complete_prefix(const char *s, size_t len)
{
	size_t i = 0;
	uint32_t cp;

	while (i < len) {
		int n = utf8_decode(s + i, len - i, &cp);

		if (n == 0)
			return i;
		i += n < 0 ? 1 : (size_t)n;
	}
	return i;
}
