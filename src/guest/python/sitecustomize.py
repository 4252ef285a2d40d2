# net-test's hook for Python tests: reports every unittest case, with no change to the tests.
#
# The host puts this directory first on PYTHONPATH for a Python test file and names a results
# file in NET_TEST_UNITTEST (in the run directory); Python's `site` imports this module at start.
# Nothing happens until the process imports `unittest`: then TestResult (the base of every
# runner's result class) and TestSuite are wrapped so that each case, as it ends, appends one
# JSON line to that file (src/host/results/unittest.ts reads it):
#
#   {"t": "start", "name": "Class.test_x"}                      a case began (names a hang/crash)
#   {"t": "case", "name": "Class.test_x", "id": "mod.Class.test_x", "status": S, "ms": N,
#    "reason": "...", "traceback": "..."}                       S: pass fail error skip xfail xpass
#   {"t": "filtered", "dropped": N}                             NET_TEST_FILTER dropped N cases
#
# Cases that unittest never starts because setUpClass or setUpModule failed are reported as
# errors (skips, when the fixture raised SkipTest) naming the fixture; other fixture errors
# (tearDownClass, ...) are a case of their own named after the class or module.
# NET_TEST_FILTER, a regular expression, keeps only the cases whose "Class.test_x" name or full
# id it matches (re.search), like --test-name-pattern for node:test.
#
# Written for the stdlib's unittest of Python 3.6 and later; anything unexpected is swallowed:
# the hook must never change a test's outcome.
import os
import sys


def _chain():
    """Runs the sitecustomize this one shadows (Debian ships one), as if we were not here."""
    import importlib.machinery
    import importlib.util

    here = os.path.dirname(os.path.abspath(__file__))
    rest = [p for p in sys.path if os.path.abspath(p or '.') != here]
    spec = importlib.machinery.PathFinder.find_spec('sitecustomize', rest)
    if spec is not None and spec.loader is not None:
        spec.loader.exec_module(importlib.util.module_from_spec(spec))


def _install(ut):
    import json
    import re
    import time

    out_path = os.environ.get('NET_TEST_UNITTEST')
    pattern = os.environ.get('NET_TEST_FILTER')
    fd = [None]

    def emit(rec):
        try:
            if fd[0] is None:
                fd[0] = os.open(out_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, 'O_CLOEXEC', 0), 0o644)
            # One write per record: a killed process leaves whole lines behind.
            os.write(fd[0], (json.dumps(rec) + '\n').encode('utf-8', 'replace'))
        except Exception:
            pass

    def short_name(test):
        method = getattr(test, '_testMethodName', None)
        if method is not None:
            return type(test).__qualname__ + '.' + method
        return str(test.id())

    Result = ut.result.TestResult
    Suite = ut.suite.TestSuite
    SubTest = getattr(ut.case, '_SubTest', None)
    running = {}  # id(test) -> what the case did so far
    fixtures = {}  # "mod.Class" or "mod" -> (status, reason, traceback) of its failed set-up
    RANK = {None: 0, 'pass': 1, 'xfail': 1, 'skip': 2, 'xpass': 3, 'fail': 4, 'error': 5}

    def state(test):
        return running.setdefault(id(test), {'status': None, 'tb': [], 'reason': None, 't0': time.monotonic()})

    def note(test, status, reason=None, tb=None):
        s = state(test)
        if RANK[status] >= RANK[s['status']]:
            s['status'] = status
            if reason is not None:
                s['reason'] = reason
        if tb:
            s['tb'].append(tb)

    def holder(test):
        # unittest's stand-in for a class or module fixture: "setUpClass (mod.Class)".
        m = re.match(r'^(\w+) \((.*)\)$', str(getattr(test, 'description', '')))
        return (m.group(1), m.group(2)) if m and not hasattr(test, '_testMethodName') else None

    def wrap(name, after):
        orig = getattr(Result, name, None)
        if orig is None:
            return

        def wrapper(self, *args, **kwargs):
            r = orig(self, *args, **kwargs)
            try:
                after(self, *args)
            except Exception:
                pass
            return r

        setattr(Result, name, wrapper)

    def tb_of(result, err, test):
        try:
            return result._exc_info_to_string(err, test)
        except Exception:
            return '%s: %s' % (getattr(err[0], '__name__', err[0]), err[1])

    def start(result, test):
        state(test)
        emit({'t': 'start', 'name': short_name(test)})

    def stop(result, test):
        s = running.pop(id(test), None)
        if s is None:
            return
        status = s['status'] or ('skip' if s['reason'] else 'pass')
        rec = {'t': 'case', 'name': short_name(test), 'id': str(test.id()), 'status': status,
               'ms': int((time.monotonic() - s['t0']) * 1000)}
        if s['reason']:
            rec['reason'] = s['reason']
        if s['tb']:
            rec['traceback'] = '\n'.join(s['tb'])
        emit(rec)

    def fixture_case(result, test, status, reason=None, tb=None):
        h = holder(test)
        if h is None:
            return False
        method, parent = h
        if method in ('setUpClass', 'setUpModule') and class_setup_wrapped[0]:
            # Said on each case the failure kept from running (see class_setup below). Class
            # cleanups that fail after it add their tracebacks to the first error.
            prev = fixtures.get(parent)
            if prev is not None:
                tb = '\n'.join(x for x in (prev[2], tb) if x) or None
                status, reason = prev[0], prev[1]
            fixtures[parent] = (status, reason, tb, method)
            return True
        name = (parent.rsplit('.', 1)[-1] if method.endswith('Class') else parent) + '.' + method
        rec = {'t': 'case', 'name': name, 'id': parent + '.' + method, 'status': status, 'ms': 0}
        if reason:
            rec['reason'] = reason
        if tb:
            rec['traceback'] = tb
        emit(rec)
        return True

    def error(result, test, err):
        tb = tb_of(result, err, test)
        if not fixture_case(result, test, 'error', tb=tb):
            note(test, 'error', tb=tb)

    def skip(result, test, reason):
        if fixture_case(result, test, 'skip', reason=str(reason)):
            return
        if SubTest is not None and isinstance(test, SubTest):
            state(test.test_case)['reason'] = str(reason)
            return
        note(test, 'skip', reason=str(reason))

    def subtest(result, test, sub, err):
        if err is None:
            return
        failed = test.failureException is not None and issubclass(err[0], test.failureException)
        note(test, 'fail' if failed else 'error', tb='%s\n%s' % (sub, tb_of(result, err, test)))

    wrap('startTest', start)
    wrap('stopTest', stop)
    wrap('addSuccess', lambda r, t: note(t, 'pass'))
    wrap('addFailure', lambda r, t, e: note(t, 'fail', tb=tb_of(r, e, t)))
    wrap('addError', error)
    wrap('addSkip', skip)
    wrap('addExpectedFailure', lambda r, t, e: note(t, 'xfail', reason='expected failure'))
    wrap('addUnexpectedSuccess', lambda r, t: note(t, 'xpass', reason='unexpected success'))
    wrap('addSubTest', subtest)

    # unittest skips the cases of a class whose setUpClass failed (or of a module whose
    # setUpModule did) without a result: each one is reported here, with the fixture's error.
    class_setup_wrapped = [False]
    orig_class_setup = getattr(Suite, '_handleClassSetUp', None)
    if orig_class_setup is not None:

        def class_setup(self, test, result):
            orig_class_setup(self, test, result)
            try:
                cls = test.__class__
                mod_failed = getattr(result, '_moduleSetUpFailed', False)
                if not (mod_failed or getattr(cls, '_classSetupFailed', False)):
                    return
                key = cls.__module__ if mod_failed else '%s.%s' % (cls.__module__, cls.__qualname__)
                status, reason, tb, method = fixtures.get(key, ('error', None, None, 'setUpModule' if mod_failed else 'setUpClass'))
                rec = {'t': 'case', 'name': short_name(test), 'id': str(test.id()), 'status': status, 'ms': 0,
                       'reason': reason or ('%s failed' % method)}
                if tb:
                    rec['traceback'] = '%s (%s) failed:\n%s' % (method, key, tb)
                emit(rec)
            except Exception:
                pass

        Suite._handleClassSetUp = class_setup
        class_setup_wrapped[0] = True

    if pattern:
        try:
            select = re.compile(pattern)
        except re.error as e:
            sys.stderr.write('net-test: --filter %r is not a Python regular expression (%s)\n' % (pattern, e))
            os._exit(2)
        orig_run = Suite.run

        def run(self, result, debug=False):
            try:
                kept = []
                dropped = 0
                for t in self._tests:
                    if isinstance(t, ut.TestCase) and not (select.search(short_name(t)) or select.search(str(t.id()))):
                        dropped += 1
                    else:
                        kept.append(t)
                if dropped:
                    self._tests = kept
                    emit({'t': 'filtered', 'dropped': dropped})
            except Exception:
                pass
            return orig_run(self, result, debug)

        Suite.run = run


class _UnittestWatch:
    """A meta path finder that patches unittest once it is imported, and then steps aside."""

    def find_spec(self, name, path=None, target=None):
        if name != 'unittest':
            return None
        import importlib.util

        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        loader = getattr(spec, 'loader', None)
        if loader is None or not hasattr(loader, 'exec_module'):
            return spec
        real = loader.exec_module

        def exec_module(module):
            real(module)
            try:
                _install(module)
            except Exception:
                pass

        loader.exec_module = exec_module
        return spec

    # Python < 3.4 finders; unused, but keeps old tools that walk meta_path happy.
    def find_module(self, name, path=None):
        return None


try:
    if os.environ.get('NET_TEST_UNITTEST') and 'unittest' not in sys.modules:
        sys.meta_path.insert(0, _UnittestWatch())
except Exception:
    pass

try:
    _chain()
except Exception:
    pass
