// fork, limits, exec, and a timeout that kills the whole process group.
#include "child.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>

namespace jitfuse::fuzz {
namespace {

volatile std::sig_atomic_t g_stop = 0;

std::string read_prefix(const std::filesystem::path& path, std::size_t max) {
  std::ifstream in(path, std::ios::binary);
  std::string s(max, '\0');
  in.read(s.data(), std::streamsize(max));
  s.resize(std::size_t(in.gcount()));
  return s;
}

// In the child, between fork and exec: only calls that are safe there (this process has one
// thread, so setenv is too).
[[noreturn]] void exec_child(const std::string& program, const std::vector<std::string>& args,
                             const std::filesystem::path& cwd,
                             const std::vector<std::pair<std::string, std::string>>& env,
                             const std::filesystem::path& out, const std::filesystem::path& err,
                             const Limits& limits, int report_fd) {
  ::setpgid(0, 0);  // a group of its own, so that the timeout kills anything it started too
  const rlimit mem{limits.memory_bytes, limits.memory_bytes};
  const rlimit no_core{0, 0};
  ::setrlimit(RLIMIT_AS, &mem);
  ::setrlimit(RLIMIT_CORE, &no_core);
  const int in_fd = ::open("/dev/null", O_RDONLY);
  const int out_fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const int err_fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (in_fd < 0 || out_fd < 0 || err_fd < 0 || ::chdir(cwd.c_str()) != 0) ::_exit(126);
  ::dup2(in_fd, 0);
  ::dup2(out_fd, 1);
  ::dup2(err_fd, 2);
  for (const auto& [name, value] : env) {
    if (value.empty()) ::unsetenv(name.c_str());
    else ::setenv(name.c_str(), value.c_str(), 1);
  }
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(program.c_str()));
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ::execv(program.c_str(), argv.data());
  const int e = errno;  // the parent reads it from the pipe, which exec would have closed
  (void)!::write(report_fd, &e, sizeof e);
  ::_exit(127);
}

}  // namespace

void stop_on_signals() {
  struct sigaction sa {};
  sa.sa_handler = [](int) { g_stop = 1; };
  ::sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

bool stopping() { return g_stop != 0; }

Outcome run_child(const std::string& program, const std::vector<std::string>& args,
                  const std::filesystem::path& cwd,
                  const std::vector<std::pair<std::string, std::string>>& env,
                  const std::filesystem::path& scratch, const Limits& limits) {
  const auto out_path = scratch / "stdout", err_path = scratch / "stderr";
  std::fflush(nullptr);  // nothing buffered here may be written twice by the child
  int report[2];  // close-on-exec: it reaches EOF empty when exec succeeds
  if (::pipe2(report, O_CLOEXEC) != 0) {
    std::perror("jitfuse_fuzz: pipe2");
    std::exit(2);
  }
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) {
    std::perror("jitfuse_fuzz: fork");
    std::exit(2);
  }
  if (pid == 0) exec_child(program, args, cwd, env, out_path, err_path, limits, report[1]);
  ::setpgid(pid, pid);  // also here, so that the group exists before any kill below
  ::close(report[1]);
  int exec_errno = 0;
  const bool exec_failed = ::read(report[0], &exec_errno, sizeof exec_errno) == sizeof exec_errno;
  ::close(report[0]);

  Outcome o;
  auto nap = std::chrono::microseconds(500);
  for (;;) {
    // WNOWAIT leaves the child a zombie: its group id stays reserved, so the kill below
    // cannot reach a process that reused it.
    siginfo_t info{};
    ::waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT);
    o.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (info.si_pid == pid) break;
    if (g_stop) {
      o.interrupted = true;
      break;
    }
    if (o.seconds > limits.timeout_s) {
      o.timed_out = true;
      break;
    }
    // Most cases end within milliseconds: poll fast first, then back off.
    std::this_thread::sleep_for(nap);
    nap = std::min(nap * 2, std::chrono::microseconds(20000));
  }
  ::kill(-pid, SIGKILL);  // on a timeout the child; always anything it left in its group
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (exec_failed) o.exec_error = std::strerror(exec_errno);
  if (WIFEXITED(status)) o.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) o.signal = WTERMSIG(status);
  o.out = read_prefix(out_path, limits.max_output);
  o.err = read_prefix(err_path, limits.max_output);
  return o;
}

}  // namespace jitfuse::fuzz
