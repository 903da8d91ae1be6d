<?php

declare(strict_types=1);

namespace Opsync\Tests\Whmcs;

/** A real `op-sandbox` (the Openprovider API sandbox) on 127.0.0.1, for one test. */
final class Sandbox
{
    public readonly string $baseUrl;
    public readonly string $username;
    public readonly string $password;
    /** @var resource */
    private $process;
    private string $seedFile;

    /** @param list<array<string, mixed>> $domains */
    public function __construct(array $domains, int $latencyMs = 0)
    {
        $this->username = 'opsync-demo';
        $this->password = 'demo-password';
        $this->seedFile = (string) tempnam(sys_get_temp_dir(), 'opsync-seed');
        file_put_contents($this->seedFile, json_encode([
            'username' => $this->username,
            'password' => $this->password,
            'domains' => $domains,
        ], JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION));
        $binary = getenv('OPSYNC_SANDBOX') ?: World::repository() . '/target/debug/op-sandbox';
        $pipes = [];
        $process = proc_open(
            [$binary, '--seed', $this->seedFile, '--port', '0', '--latency-ms', (string) $latencyMs],
            [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['file', '/dev/null', 'w']],
            $pipes
        );
        if (!\is_resource($process)) {
            throw new \RuntimeException("cannot start $binary (set OPSYNC_SANDBOX)");
        }
        $this->process = $process;
        $line = (string) fgets($pipes[1]);
        if (preg_match('/ at (http\S+)$/', trim($line), $m) !== 1) {
            throw new \RuntimeException("op-sandbox did not say where it listens: \"$line\"");
        }
        $this->baseUrl = $m[1];
    }

    /** @return list<array<string, mixed>> every domain, as the sandbox holds it now */
    public function domains(): array
    {
        return $this->control('GET', '/__sandbox/domains');
    }

    /** @return array<string, int> requests seen, by kind */
    public function counters(): array
    {
        return $this->control('GET', '/__sandbox/counters');
    }

    /** @return array<string, list<string>> the keys each kind of call was sent, refused ones included */
    public function seenKeys(): array
    {
        return $this->control('GET', '/__sandbox/seen');
    }

    /** @param array<string, mixed> $faults */
    public function faults(array $faults): void
    {
        $this->control('POST', '/__sandbox/faults', json_encode((object) $faults));
    }

    public function stop(): void
    {
        if (\is_resource($this->process)) {
            proc_terminate($this->process);
            proc_close($this->process);
        }
        @unlink($this->seedFile);
    }

    /** @return mixed */
    private function control(string $method, string $path, ?string $body = null)
    {
        $root = substr($this->baseUrl, 0, -\strlen('/v1beta'));
        $curl = curl_init($root . $path);
        curl_setopt_array($curl, [CURLOPT_CUSTOMREQUEST => $method, CURLOPT_RETURNTRANSFER => true]);
        if ($body !== null) {
            curl_setopt_array($curl, [CURLOPT_POSTFIELDS => $body, CURLOPT_HTTPHEADER => ['Content-Type: application/json']]);
        }
        $answer = curl_exec($curl);
        return json_decode((string) $answer, true);
    }
}
