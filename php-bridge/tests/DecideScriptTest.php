<?php

declare(strict_types=1);

namespace Opsync\Tests;

use PHPUnit\Framework\TestCase;

require_once __DIR__ . '/Scenarios.php';

/** bin/opsync-decide.php keeps the contract: stdout, stderr and exit status. */
final class DecideScriptTest extends TestCase
{
    /**
     * @param list<string> $args
     * @return array{int, string, string}
     */
    private static function runPhp(array $args, string $stdin, array $env = []): array
    {
        $command = array_merge([PHP_BINARY], $args);
        $pipes = [];
        $proc = proc_open($command, [0 => ['pipe', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, null, $env + getenv());
        fwrite($pipes[0], $stdin);
        fclose($pipes[0]);
        $out = (string) stream_get_contents($pipes[1]);
        $err = (string) stream_get_contents($pipes[2]);
        fclose($pipes[1]);
        fclose($pipes[2]);
        return [proc_close($proc), $out, $err];
    }

    private static function script(): string
    {
        return __DIR__ . '/../bin/opsync-decide.php';
    }

    /** @return iterable<string, array{string, ?string, ?string}> */
    public static function scenarios(): iterable
    {
        yield from Scenarios::all();
    }

    /** @dataProvider scenarios */
    public function testEveryScenarioThroughTheScriptOnStdin(string $request, ?string $response, ?string $error): void
    {
        [$status, $out, $err] = self::runPhp([self::script()], $request);
        if ($response !== null) {
            self::assertSame('', $err);
            self::assertSame(0, $status);
            self::assertSame($response, $out);
        } else {
            self::assertSame(1, $status);
            self::assertSame('', $out);
            self::assertSame('opsync: ' . $error, $err);
        }
    }

    public function testAFileArgumentWithoutFfiFallsBackToTheCommand(): void
    {
        $dir = __DIR__ . '/../../fixtures/scenarios';
        [$status, $out, $err] = self::runPhp(['-d', 'ffi.enable=0', self::script(), "$dir/contract-example.request.json"], '');
        self::assertSame('', $err);
        self::assertSame(0, $status);
        self::assertSame(file_get_contents("$dir/contract-example.response.json"), $out);
    }

    public function testAnUnreadableFileIsOneLineAndStatusThree(): void
    {
        [$status, $out, $err] = self::runPhp([self::script(), '/nonexistent/request.json'], '');
        self::assertSame(3, $status);
        self::assertSame('', $out);
        self::assertSame("opsync: /nonexistent/request.json: cannot be read\n", $err);
    }

    public function testNoEngineAtAllIsOneLineAndStatusThree(): void
    {
        [$status, $out, $err] = self::runPhp(
            ['-d', 'ffi.enable=0', self::script()],
            '{}',
            ['OPSYNC_BIN' => '/nonexistent/opsync', 'PATH' => '/nonexistent']
        );
        self::assertSame(3, $status);
        self::assertSame('', $out);
        self::assertStringStartsWith('opsync: The opsync engine is unavailable: ', $err);
        self::assertSame(1, substr_count($err, "\n"));
    }
}
