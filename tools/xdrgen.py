#!/usr/bin/env python3
"""tools/xdrgen.py: XDR (RFC 4506) language -> C codecs over rpc/xdr.h.

Job: turn rpc/nfs4_prot.x into build/rpc/nfs4_xdr_gen.[ch] in the C shape of
docs/decisions/0001-xdr-codegen.md: one typedef and one encode/decode pair per
named type. Python 3 standard library only; output is deterministic (file
order, no timestamps).

Safety properties of the generated decoders:
  * every length is checked before use (xdr_get_opaque/xdr_get_array_len check
    the claimed size against the bytes that remain, using a conservative
    minimum encoded element size computed here);
  * arrays and optional data come from the stream's arena (nothing to free);
  * a union whose discriminant has no arm and no default fails the decode;
    enums accept any int32 (the protocol layer decides what is legal);
  * a linked list (struct whose last field is an optional pointer to the same
    struct, e.g. entry4.nextentry) is coded iteratively; any other optional
    data is guarded by x->depth (XDRGEN_MAX_DEPTH).

Usage: xdrgen.py --header OUT.h --source OUT.c SPEC.x
"""

import argparse
import os
import re
import sys

MAX_DEPTH = 64

# XDR builtin -> (C type, xdr.h suffix, minimum encoded size)
BUILTINS = {
    'int': ('int32_t', 'i32', 4),
    'unsigned int': ('uint32_t', 'u32', 4),
    'hyper': ('int64_t', 'i64', 8),
    'unsigned hyper': ('uint64_t', 'u64', 8),
    'bool': ('bool', 'bool', 4),
}
# The RFC's own "typedef int int32_t;" lines name the C types themselves.
STDINT_ALIASES = {'int32_t': 'int', 'uint32_t': 'unsigned int',
                  'int64_t': 'hyper', 'uint64_t': 'unsigned hyper'}


class XdrError(Exception):
    pass


# --------------------------------------------------------------------------
# Lexer
# --------------------------------------------------------------------------

TOKEN_RE = re.compile(r'\s*(?:(0[xX][0-9a-fA-F]+|-?\d+)|([A-Za-z_][A-Za-z0-9_]*)|(.))')


def strip_source(text):
    """Removes comments and '%' pass-through lines, keeping line numbers."""
    text = re.sub(r'/\*.*?\*/', lambda m: '\n' * m.group(0).count('\n'), text, flags=re.S)
    lines = []
    for line in text.split('\n'):
        if line.lstrip().startswith('%'):
            lines.append('')
        else:
            lines.append(re.sub(r'//.*', '', line))
    return lines


def tokenize(text):
    toks = []
    for lineno, line in enumerate(strip_source(text), 1):
        pos = 0
        while pos < len(line):
            m = TOKEN_RE.match(line, pos)
            if not m or m.end() == pos:
                break
            pos = m.end()
            num, ident, punct = m.groups()
            if num is not None:
                toks.append(('num', num, lineno))
            elif ident is not None:
                toks.append(('id', ident, lineno))
            elif punct is not None and not punct.isspace():
                toks.append(('p', punct, lineno))
    return toks


# --------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------

class Decl:
    """One declaration: kind in void, plain, fopaque, vopaque, string,
    farray, varray, optional. type is an XDR type name (builtin or named)."""

    def __init__(self, kind, type_=None, name=None, size=None):
        self.kind = kind
        self.type = type_
        self.name = name
        self.size = size      # text (number or constant name) or None


class Definition:
    def __init__(self, what, name, line):
        self.what = what      # const, enum, struct, union, typedef, program
        self.name = name
        self.line = line


# --------------------------------------------------------------------------
# Parser
# --------------------------------------------------------------------------

class Parser:
    def __init__(self, toks):
        self.toks = toks
        self.i = 0
        self.defs = []

    def peek(self, k=0):
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else ('eof', '', -1)

    def next(self):
        t = self.peek()
        self.i += 1
        return t

    def error(self, msg):
        t = self.peek()
        raise XdrError('line %d: %s (at %r)' % (t[2], msg, t[1]))

    def expect(self, value):
        t = self.next()
        if t[1] != value:
            self.i -= 1
            self.error('expected %r' % value)
        return t

    def ident(self):
        t = self.next()
        if t[0] != 'id':
            self.i -= 1
            self.error('expected identifier')
        return t[1]

    def value(self):
        t = self.next()
        if t[0] not in ('num', 'id'):
            self.i -= 1
            self.error('expected value')
        return t[1]

    def parse(self):
        while self.peek()[0] != 'eof':
            kw = self.peek()[1]
            if kw == 'const':
                self.parse_const()
            elif kw == 'enum':
                self.parse_enum()
            elif kw == 'struct':
                self.parse_struct()
            elif kw == 'union':
                self.parse_union()
            elif kw == 'typedef':
                self.parse_typedef()
            elif kw == 'program':
                self.parse_program()
            else:
                self.error('unexpected token')
        return self.defs

    def parse_const(self):
        line = self.expect('const')[2]
        name = self.ident()
        self.expect('=')
        d = Definition('const', name, line)
        d.value = self.value()
        self.expect(';')
        self.defs.append(d)

    def parse_enum(self):
        line = self.expect('enum')[2]
        d = Definition('enum', self.ident(), line)
        d.values = self.enum_body()
        self.expect(';')
        self.defs.append(d)

    def enum_body(self):
        self.expect('{')
        values = []
        while True:
            name = self.ident()
            self.expect('=')
            values.append((name, self.value()))
            if self.peek()[1] == ',':
                self.next()
                continue
            break
        self.expect('}')
        return values

    def type_spec(self):
        t = self.ident()
        if t == 'unsigned':
            if self.peek()[1] in ('int', 'hyper'):
                return 'unsigned ' + self.next()[1]
            return 'unsigned int'
        if t in ('struct', 'enum', 'union'):
            self.error('inline %s definitions are not supported' % t)
        return t

    def declaration(self):
        if self.peek()[1] == 'void':
            self.next()
            return Decl('void')
        t = self.type_spec()
        if t in ('opaque', 'string'):
            name = self.ident()
            if self.peek()[1] == '[':
                if t == 'string':
                    self.error('string must be variable length')
                self.next()
                size = self.value()
                self.expect(']')
                return Decl('fopaque', 'opaque', name, size)
            self.expect('<')
            size = None
            if self.peek()[1] != '>':
                size = self.value()
            self.expect('>')
            return Decl('vopaque' if t == 'opaque' else 'string', t, name, size)
        if self.peek()[1] == '*':
            self.next()
            return Decl('optional', t, self.ident())
        name = self.ident()
        if self.peek()[1] == '[':
            self.next()
            size = self.value()
            self.expect(']')
            return Decl('farray', t, name, size)
        if self.peek()[1] == '<':
            self.next()
            size = None
            if self.peek()[1] != '>':
                size = self.value()
            self.expect('>')
            return Decl('varray', t, name, size)
        return Decl('plain', t, name)

    def parse_struct(self):
        line = self.expect('struct')[2]
        d = Definition('struct', self.ident(), line)
        self.expect('{')
        d.fields = []
        while self.peek()[1] != '}':
            decl = self.declaration()
            if decl.kind == 'void':
                self.error('void struct member')
            d.fields.append(decl)
            self.expect(';')
        self.expect('}')
        self.expect(';')
        self.defs.append(d)

    def parse_union(self):
        line = self.expect('union')[2]
        d = Definition('union', self.ident(), line)
        self.expect('switch')
        self.expect('(')
        d.disc_type = self.type_spec()
        d.disc_name = self.ident()
        self.expect(')')
        self.expect('{')
        d.arms = []          # list of (labels, Decl)
        d.default = None
        while self.peek()[1] != '}':
            labels = []
            is_default = False
            while self.peek()[1] in ('case', 'default'):
                if self.next()[1] == 'case':
                    labels.append(self.value())
                else:
                    is_default = True
                self.expect(':')
            if not labels and not is_default:
                self.error('expected case or default')
            decl = self.declaration()
            self.expect(';')
            if labels:
                d.arms.append((labels, decl))
            if is_default:
                d.default = decl
        self.expect('}')
        self.expect(';')
        self.defs.append(d)

    def parse_typedef(self):
        line = self.expect('typedef')[2]
        decl = self.declaration()
        if decl.kind == 'void':
            self.error('typedef void')
        d = Definition('typedef', decl.name, line)
        d.decl = decl
        self.expect(';')
        self.defs.append(d)

    def parse_program(self):
        line = self.expect('program')[2]
        prog = Definition('program', self.ident(), line)
        prog.versions = []
        self.expect('{')
        while self.peek()[1] == 'version':
            self.next()
            vname = self.ident()
            procs = []
            self.expect('{')
            while self.peek()[1] != '}':
                self.type_spec()                 # result type
                pname = self.ident()
                self.expect('(')
                while self.peek()[1] != ')':
                    self.next()
                self.expect(')')
                self.expect('=')
                procs.append((pname, self.value()))
                self.expect(';')
            self.expect('}')
            self.expect('=')
            prog.versions.append((vname, self.value(), procs))
            self.expect(';')
        self.expect('}')
        self.expect('=')
        prog.value = self.value()
        self.expect(';')
        self.defs.append(prog)


# --------------------------------------------------------------------------
# Semantic helpers
# --------------------------------------------------------------------------

class Spec:
    def __init__(self, defs):
        self.defs = defs
        self.consts = {}
        self.types = {}
        for d in defs:
            if d.what == 'const':
                self.consts[d.name] = d.value
            elif d.what == 'enum':
                for n, v in d.values:
                    self.consts[n] = v
            if d.what in ('enum', 'struct', 'union', 'typedef'):
                if d.what == 'typedef' and self.is_stdint_alias(d):
                    continue
                if d.name in self.types:
                    raise XdrError('line %d: %s redefined' % (d.line, d.name))
                self.types[d.name] = d
        self._minsize = {}
        self.check()

    @staticmethod
    def is_stdint_alias(d):
        return (d.name in STDINT_ALIASES and d.decl.kind == 'plain'
                and d.decl.type == STDINT_ALIASES[d.name])

    def builtin(self, t):
        """XDR builtin name for t (following the stdint aliases) or None."""
        t = STDINT_ALIASES.get(t, t)
        return t if t in BUILTINS else None

    def num(self, text, seen=()):
        if text in ('TRUE', 'FALSE'):
            return 1 if text == 'TRUE' else 0
        if re.match(r'^-?(0[xX][0-9a-fA-F]+|\d+)$', text):
            return int(text, 0)
        if text in self.consts and text not in seen:
            return self.num(self.consts[text], seen + (text,))
        raise XdrError('unknown constant %s' % text)

    def check(self):
        for d in self.defs:
            decls = []
            if d.what == 'struct':
                decls = d.fields
            elif d.what == 'union':
                decls = [a[1] for a in d.arms] + ([d.default] if d.default else [])
                self.check_type(d.disc_type, d)
                dt = self.resolve(d.disc_type)
                if not (self.builtin(dt) or self.types[dt].what == 'enum'):
                    raise XdrError('line %d: bad discriminant type' % d.line)
                for labels, _ in d.arms:
                    for lab in labels:
                        self.num(lab)
            elif d.what == 'typedef':
                decls = [d.decl]
            elif d.what == 'enum':
                for _, v in d.values:
                    self.num(v)
            for decl in decls:
                if decl.kind in ('plain', 'farray', 'varray', 'optional'):
                    self.check_type(decl.type, d)
                if decl.size is not None:
                    self.num(decl.size)

    def check_type(self, t, d):
        if not self.builtin(t) and t not in self.types:
            raise XdrError('line %d: unknown type %s' % (d.line, t))

    def resolve(self, t):
        """Follows plain typedefs to a builtin or a non-typedef definition."""
        while not self.builtin(t):
            d = self.types[t]
            if d.what != 'typedef' or d.decl.kind != 'plain':
                return t
            t = d.decl.type
        return self.builtin(t)

    def is_enum(self, t):
        r = self.resolve(t)
        return not self.builtin(r) and self.types[r].what == 'enum'

    def fixed_array_typedef(self, t):
        """The typedef'd fixed-size Decl behind t (opaque x[N] or T x[N])."""
        if self.builtin(t):
            return None
        d = self.types[t]
        if d.what != 'typedef':
            return None
        if d.decl.kind in ('fopaque', 'farray'):
            return d.decl
        if d.decl.kind == 'plain':
            return self.fixed_array_typedef(d.decl.type)
        return None

    def minsize_type(self, t, stack=()):
        b = self.builtin(t)
        if b:
            return BUILTINS[b][2]
        if t in self._minsize:
            return self._minsize[t]
        if t in stack:
            return 4       # only reachable through an optional; never here
        d = self.types[t]
        stack = stack + (t,)
        if d.what == 'enum':
            n = 4
        elif d.what == 'struct':
            n = sum(self.minsize_decl(f, stack) for f in d.fields)
        elif d.what == 'union':
            arms = [a[1] for a in d.arms] + ([d.default] if d.default else [])
            n = 4 + min(self.minsize_decl(a, stack) for a in arms)
        else:
            n = self.minsize_decl(d.decl, stack)
        self._minsize[t] = n
        return n

    def minsize_decl(self, decl, stack=()):
        k = decl.kind
        if k == 'void':
            return 0
        if k in ('vopaque', 'string', 'varray', 'optional'):
            return 4
        if k == 'fopaque':
            return (self.num(decl.size) + 3) & ~3
        if k == 'farray':
            return self.num(decl.size) * self.minsize_type(decl.type, stack)
        return self.minsize_type(decl.type, stack)

    def ctype(self, t):
        b = self.builtin(t)
        return BUILTINS[b][0] if b else t

    def is_aggregate(self, t):
        return not self.builtin(t) and self.types[t].what in ('struct', 'union')


# --------------------------------------------------------------------------
# C emission: types
# --------------------------------------------------------------------------

def c_number(text, spec):
    """A C spelling of a constant's value with a suffix wide enough for it."""
    try:
        v = spec.num(text)
    except XdrError:
        return text
    if not re.match(r'^-?(0[xX][0-9a-fA-F]+|\d+)$', text):
        return text
    if v > 0xffffffff or v < -0x80000000:
        return text + ('LL' if v < 0 else 'ULL')
    if v > 0x7fffffff:
        return text + 'U'
    return text


def c_size(text):
    """Array bounds and limits as written (numbers or constant names)."""
    return text


def c_member(spec, decl, indent):
    k = decl.kind
    if k == 'fopaque':
        return '%suint8_t %s[%s];' % (indent, decl.name, c_size(decl.size))
    if k in ('vopaque', 'string'):
        return '%sstruct xdr_opaque %s;' % (indent, decl.name)
    ct = spec.ctype(decl.type)
    if k == 'plain':
        return '%s%s %s;' % (indent, ct, decl.name)
    if k == 'farray':
        return '%s%s %s[%s];' % (indent, ct, decl.name, c_size(decl.size))
    if k == 'varray':
        elem = ('struct %s' % ct) if spec.is_aggregate(decl.type) else ct
        return '%sstruct { uint32_t len; %s *val; } %s;' % (indent, elem, decl.name)
    if k == 'optional':
        elem = ('struct %s' % ct) if spec.is_aggregate(decl.type) else ct
        return '%s%s *%s;' % (indent, elem, decl.name)
    raise XdrError('bad member kind %s' % k)


def type_deps(spec, d):
    """Names that must be complete before d's C definition."""
    decls = []
    if d.what == 'struct':
        decls = d.fields
    elif d.what == 'union':
        decls = [a[1] for a in d.arms] + ([d.default] if d.default else [])
        decls = decls + [Decl('plain', d.disc_type, d.disc_name)]
    elif d.what == 'typedef':
        decls = [d.decl]
    deps = []
    for decl in decls:
        if decl.kind in ('plain', 'farray') or (
                decl.kind in ('varray', 'optional') and not spec.is_aggregate(decl.type)):
            if not spec.builtin(decl.type):
                deps.append(decl.type)
    return deps


def type_order(spec):
    order, state = [], {}

    def visit(name):
        st = state.get(name)
        if st == 'done':
            return
        if st == 'active':
            raise XdrError('type %s contains itself by value' % name)
        state[name] = 'active'
        for dep in type_deps(spec, spec.types[name]):
            visit(dep)
        state[name] = 'done'
        order.append(name)

    for d in spec.defs:
        if d.what in ('enum', 'struct', 'union', 'typedef') and d.name in spec.types \
                and spec.types[d.name] is d:
            visit(d.name)
    return order


def emit_type(spec, d, out):
    if d.what == 'enum':
        out.append('typedef enum %s {' % d.name)
        vals = ['\t%s = %s' % (n, c_number(v, spec)) for n, v in d.values]
        out.append(',\n'.join(vals))
        out.append('} %s;' % d.name)
    elif d.what == 'struct':
        out.append('typedef struct %s {' % d.name)
        for f in d.fields:
            out.append(c_member(spec, f, '\t'))
        out.append('} %s;' % d.name)
    elif d.what == 'union':
        out.append('typedef struct %s {' % d.name)
        out.append('\t%s %s;' % (spec.ctype(d.disc_type), d.disc_name))
        arms = [a[1] for a in d.arms] + ([d.default] if d.default else [])
        arms = [a for a in arms if a.kind != 'void']
        if arms:
            out.append('\tunion {')
            for a in arms:
                out.append(c_member(spec, a, '\t\t'))
            out.append('\t} u;')
        out.append('} %s;' % d.name)
    elif d.what == 'typedef':
        decl = d.decl
        k = decl.kind
        if k == 'fopaque':
            out.append('typedef uint8_t %s[%s];' % (d.name, c_size(decl.size)))
        elif k in ('vopaque', 'string'):
            out.append('typedef struct xdr_opaque %s;' % d.name)
        elif k == 'plain':
            out.append('typedef %s %s;' % (spec.ctype(decl.type), d.name))
        elif k == 'farray':
            out.append('typedef %s %s[%s];' % (spec.ctype(decl.type), d.name, c_size(decl.size)))
        elif k == 'varray':
            elem = spec.ctype(decl.type)
            if spec.is_aggregate(decl.type):
                elem = 'struct ' + elem
            out.append('typedef struct { uint32_t len; %s *val; } %s;' % (elem, d.name))
        elif k == 'optional':
            elem = spec.ctype(decl.type)
            if spec.is_aggregate(decl.type):
                elem = 'struct ' + elem
            out.append('typedef %s *%s;' % (elem, d.name))
    out.append('')


# --------------------------------------------------------------------------
# C emission: codecs
# --------------------------------------------------------------------------

class Gen:
    """Emits statements that encode (enc=True) or decode one declaration
    held in the C lvalue `lv`. Each statement returns false on failure."""

    def __init__(self, spec):
        self.spec = spec
        self.tmp = 0

    def fresh(self, base):
        self.tmp += 1
        return '%s%d' % (base, self.tmp)

    def fail(self, ind):
        return ['%sx->failed = true;' % ind, '%sreturn false;' % ind]

    def scalar(self, t, lv, enc, ind):
        """Builtin or named type t held in lvalue lv."""
        spec = self.spec
        b = spec.builtin(t)
        if b:
            suf = BUILTINS[b][1]
            if enc:
                return ['%sif (!xdr_put_%s(x, %s))' % (ind, suf, lv), '%s\treturn false;' % ind]
            return ['%sif (!xdr_get_%s(x, &%s))' % (ind, suf, lv), '%s\treturn false;' % ind]
        fa = spec.fixed_array_typedef(t)
        if fa is not None:
            # C arrays cannot be passed by pointer-to-const without casts;
            # code fixed-size typedefs in place.
            return self.decl(Decl(fa.kind, fa.type, None, fa.size), lv, enc, ind)
        if enc:
            return ['%sif (!xdr_enc_%s(x, &%s))' % (ind, t, lv), '%s\treturn false;' % ind]
        return ['%sif (!xdr_dec_%s(x, &%s))' % (ind, t, lv), '%s\treturn false;' % ind]

    def decl(self, decl, lv, enc, ind):
        spec = self.spec
        k = decl.kind
        out = []
        if k == 'void':
            return out
        if k == 'plain':
            return self.scalar(decl.type, lv, enc, ind)
        if k == 'fopaque':
            fn = 'xdr_put_fixed' if enc else 'xdr_get_fixed'
            return ['%sif (!%s(x, %s, %s))' % (ind, fn, lv, decl.size), '%s\treturn false;' % ind]
        if k in ('vopaque', 'string'):
            mx = decl.size if decl.size is not None else '0'
            if enc:
                if decl.size is not None:
                    out.append('%sif (%s.len > (uint32_t)%s) {' % (ind, lv, decl.size))
                    out += self.fail(ind + '\t')
                    out.append('%s}' % ind)
                out.append('%sif (!xdr_put_opaque(x, %s.val, %s.len))' % (ind, lv, lv))
            else:
                out.append('%sif (!xdr_get_opaque(x, %s, &%s))' % (ind, mx, lv))
            out.append('%s\treturn false;' % ind)
            return out
        if k == 'farray':
            i = self.fresh('i')
            out.append('%sfor (uint32_t %s = 0; %s < (uint32_t)(%s); %s++) {' % (ind, i, i, decl.size, i))
            out += self.scalar(decl.type, '%s[%s]' % (lv, i), enc, ind + '\t')
            out.append('%s}' % ind)
            return out
        if k == 'varray':
            i = self.fresh('i')
            if enc:
                if decl.size is not None:
                    out.append('%sif (%s.len > (uint32_t)%s) {' % (ind, lv, decl.size))
                    out += self.fail(ind + '\t')
                    out.append('%s}' % ind)
                out.append('%sif (!xdr_put_u32(x, %s.len))' % (ind, lv))
                out.append('%s\treturn false;' % ind)
            else:
                n = self.fresh('n')
                mx = decl.size if decl.size is not None else '0'
                ms = max(1, spec.minsize_type(decl.type))
                out.append('%suint32_t %s;' % (ind, n))
                out.append('%sif (!xdr_get_array_len(x, %s, %d, &%s))' % (ind, mx, ms, n))
                out.append('%s\treturn false;' % ind)
                out.append('%s%s.len = %s;' % (ind, lv, n))
                out.append('%s%s.val = NULL;' % (ind, lv))
                out.append('%sif (%s) {' % (ind, n))
                out.append('%s\t%s.val = xdr_alloc(x, (size_t)%s * sizeof(*%s.val));' % (ind, lv, n, lv))
                out.append('%s\tif (!%s.val)' % (ind, lv))
                out.append('%s\t\treturn false;' % ind)
                out.append('%s}' % ind)
            out.append('%sfor (uint32_t %s = 0; %s < %s.len; %s++) {' % (ind, i, i, lv, i))
            out += self.scalar(decl.type, '%s.val[%s]' % (lv, i), enc, ind + '\t')
            out.append('%s}' % ind)
            return out
        if k == 'optional':
            fn = 'xdr_enc_' if enc else 'xdr_dec_'
            if enc:
                out.append('%sif (!xdr_put_bool(x, %s != NULL))' % (ind, lv))
                out.append('%s\treturn false;' % ind)
                out.append('%sif (%s) {' % (ind, lv))
            else:
                b = self.fresh('present')
                out.append('%sbool %s;' % (ind, b))
                out.append('%sif (!xdr_get_bool(x, &%s))' % (ind, b))
                out.append('%s\treturn false;' % ind)
                out.append('%s%s = NULL;' % (ind, lv))
                out.append('%sif (%s) {' % (ind, b))
                out.append('%s\t%s = xdr_alloc(x, sizeof(*%s));' % (ind, lv, lv))
                out.append('%s\tif (!%s)' % (ind, lv))
                out.append('%s\t\treturn false;' % ind)
            ok = self.fresh('ok')
            out.append('%s\tif (++x->depth > XDRGEN_MAX_DEPTH) {' % ind)
            out += self.fail(ind + '\t\t')
            out.append('%s\t}' % ind)
            if spec.builtin(decl.type) or spec.fixed_array_typedef(decl.type):
                out.append('%s\tbool %s = true;' % (ind, ok))
                body = self.scalar(decl.type, '(*%s)' % lv, enc, ind + '\t')
                # scalar() returns early on failure; wrap via a helper block
                out.append('%s\tdo {' % ind)
                out += [s.replace('return false;', '{ %s = false; break; }' % ok) for s in body]
                out.append('%s\t} while (0);' % ind)
            else:
                out.append('%s\tbool %s = %s%s(x, %s);' % (ind, ok, fn, decl.type, lv))
            out.append('%s\tx->depth--;' % ind)
            out.append('%s\tif (!%s)' % (ind, ok))
            out.append('%s\t\treturn false;' % ind)
            out.append('%s}' % ind)
            return out
        raise XdrError('bad decl kind %s' % k)


def proto(d, enc):
    if enc:
        return 'bool xdr_enc_%s(struct xdr_stream *x, const %s *v)' % (d.name, d.name)
    return 'bool xdr_dec_%s(struct xdr_stream *x, %s *v)' % (d.name, d.name)


def list_link(spec, d):
    """The self-referencing last optional field of a linked-list struct."""
    if d.what != 'struct' or not d.fields:
        return None
    last = d.fields[-1]
    if last.kind == 'optional' and spec.resolve(last.type) == d.name:
        return last
    return None


def emit_codec(spec, gen, d, enc, out):
    out.append(proto(d, enc))
    out.append('{')
    body = []
    if d.what == 'enum':
        if enc:
            body.append('\treturn xdr_put_i32(x, (int32_t)*v);')
        else:
            body += ['\tint32_t t;', '',
                     '\tif (!xdr_get_i32(x, &t))', '\t\treturn false;',
                     '\t*v = (%s)t;' % d.name, '\treturn true;']
        out += body
        out.append('}')
        out.append('')
        return
    if d.what == 'struct':
        link = list_link(spec, d)
        if link is None:
            for f in d.fields:
                body += gen.decl(f, 'v->%s' % f.name, enc, '\t')
        else:
            # A list is coded iteratively: a hostile 100k-entry READDIR
            # reply must not recurse 100k deep.
            body.append('\tfor (;;) {')
            for f in d.fields[:-1]:
                body += gen.decl(f, 'v->%s' % f.name, enc, '\t\t')
            if enc:
                body += ['\t\tif (!xdr_put_bool(x, v->%s != NULL))' % link.name,
                         '\t\t\treturn false;',
                         '\t\tif (!v->%s)' % link.name,
                         '\t\t\tbreak;',
                         '\t\tv = v->%s;' % link.name]
            else:
                body += ['\t\tbool more;', '',
                         '\t\tif (!xdr_get_bool(x, &more))',
                         '\t\t\treturn false;',
                         '\t\tv->%s = NULL;' % link.name,
                         '\t\tif (!more)',
                         '\t\t\tbreak;',
                         '\t\tv->%s = xdr_alloc(x, sizeof(*v->%s));' % (link.name, link.name),
                         '\t\tif (!v->%s)' % link.name,
                         '\t\t\treturn false;',
                         '\t\tv = v->%s;' % link.name]
            body.append('\t}')
    elif d.what == 'typedef':
        body += gen.decl(Decl(d.decl.kind, d.decl.type, None, d.decl.size), '(*v)', enc, '\t')
    elif d.what == 'union':
        dt = spec.resolve(d.disc_type)
        body += gen.scalar(d.disc_type, 'v->%s' % d.disc_name, enc, '\t')
        if dt == 'unsigned int':
            cast = 'int64_t'
        else:
            cast = 'int32_t'
        body.append('\tswitch ((%s)v->%s) {' % (cast, d.disc_name))
        for labels, decl in d.arms:
            for lab in labels:
                val = {'TRUE': '1', 'FALSE': '0'}.get(lab, lab)
                body.append('\tcase %s:' % val)
            body += gen.decl(decl, 'v->u.%s' % decl.name, enc, '\t\t') if decl.kind != 'void' else []
            body.append('\t\tbreak;')
        body.append('\tdefault:')
        if d.default is not None:
            if d.default.kind != 'void':
                body += gen.decl(d.default, 'v->u.%s' % d.default.name, enc, '\t\t')
            body.append('\t\tbreak;')
        else:
            body += ['\t\t/* no arm for this discriminant and no default */',
                     '\t\tx->failed = true;', '\t\treturn false;']
        body.append('\t}')
    out += body
    out.append('\treturn true;')
    out.append('}')
    out.append('')


# --------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------

def generate(spec, spec_name, header_name):
    guard = 'DAXNFS_' + re.sub(r'[^A-Za-z0-9]', '_', os.path.basename(header_name)).upper()
    h = ['/*',
         ' * %s: generated by tools/xdrgen.py from %s. Do not edit.' % (
             os.path.basename(header_name), spec_name),
         ' * C shape: docs/decisions/0001-xdr-codegen.md.',
         ' */',
         '#ifndef %s' % guard,
         '#define %s' % guard,
         '',
         '#include <stdbool.h>',
         '#include <stddef.h>',
         '#include <stdint.h>',
         '',
         '#include "rpc/xdr.h"',
         '',
         '/* Nesting limit for optional data that is not a plain list. */',
         '#define XDRGEN_MAX_DEPTH %d' % MAX_DEPTH,
         '']
    # Constants and program numbers, in file order.
    for d in spec.defs:
        if d.what == 'const':
            h.append('#define %s %s' % (d.name, c_number(d.value, spec)))
        elif d.what == 'program':
            # Program and version numbers stay comments: rpc/ and server/
            # spell them with their own names; procedures are defined.
            h.append('/* program %s = %s */' % (d.name, d.value))
            for vname, vval, procs in d.versions:
                h.append('/* version %s = %s */' % (vname, vval))
                for pname, pval in procs:
                    h.append('#define %s %s' % (pname, c_number(pval, spec)))
    h.append('')
    order = type_order(spec)
    for name in order:
        emit_type(spec, spec.types[name], h)
    for name in order:
        d = spec.types[name]
        h.append(proto(d, True) + ';')
        h.append(proto(d, False) + ';')
    h += ['', '#endif', '']

    c = ['/*',
         ' * %s: generated by tools/xdrgen.py from %s. Do not edit.' % (
             os.path.basename(header_name).replace('.h', '.c'), spec_name),
         ' */',
         '#include "rpc/%s"' % os.path.basename(header_name),
         '']
    gen = Gen(spec)
    for name in order:
        d = spec.types[name]
        emit_codec(spec, gen, d, True, c)
        emit_codec(spec, gen, d, False, c)
    # Typedef codecs were generated against the lvalue (*v); spell it v->.
    c = [re.sub(r'&\(\*v\)(?![\[.])', 'v', line.replace('(*v).', 'v->')) for line in c]
    return '\n'.join(h), '\n'.join(c)


def write_if_changed(path, text):
    try:
        with open(path) as f:
            if f.read() == text:
                return
    except OSError:
        pass
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        f.write(text)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--header', required=True)
    ap.add_argument('--source', required=True)
    ap.add_argument('spec')
    a = ap.parse_args()
    try:
        with open(a.spec) as f:
            text = f.read()
        spec = Spec(Parser(tokenize(text)).parse())
        h, c = generate(spec, os.path.basename(a.spec), a.header)
    except (XdrError, OSError) as e:
        print('xdrgen: %s: %s' % (a.spec, e), file=sys.stderr)
        return 1
    write_if_changed(a.header, h)
    write_if_changed(a.source, c)
    return 0


if __name__ == '__main__':
    sys.exit(main())
