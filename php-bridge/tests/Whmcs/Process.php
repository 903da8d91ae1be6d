<?php

declare(strict_types=1);

namespace Opsync\Tests\Whmcs;

/** A child process whose output is collected (files, so no pipe fills up). */
final class Process
{
    /** @var resource */
    private $process;
    private string $out;
    private string $err;

    /**
     * @param list<string> $command
     * @param array<string, string> $env
     */
    public function __construct(array $command, array $env)
    {
        $this->out = (string) tempnam(sys_get_temp_dir(), 'opsync-out');
        $this->err = (string) tempnam(sys_get_temp_dir(), 'opsync-err');
        $pipes = [];
        $process = proc_open($command, [0 => ['file', '/dev/null', 'r'], 1 => ['file', $this->out, 'w'], 2 => ['file', $this->err, 'w']], $pipes, null, $env);
        if (!\is_resource($process)) {
            throw new \RuntimeException('cannot start ' . $command[0]);
        }
        $this->process = $process;
    }

    /**
     * Ends the process (SIGTERM) and collects what it said.
     *
     * @return array{0: int, 1: string, 2: string}
     */
    public function stop(): array
    {
        proc_terminate($this->process);
        return $this->wait();
    }

    /** @return array{0: int, 1: string, 2: string} exit status, stdout, stderr */
    public function wait(): array
    {
        $status = proc_close($this->process);
        $result = [$status, (string) file_get_contents($this->out), (string) file_get_contents($this->err)];
        @unlink($this->out);
        @unlink($this->err);
        return $result;
    }
}
