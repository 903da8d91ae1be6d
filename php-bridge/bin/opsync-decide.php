#!/usr/bin/env php
<?php

/**
 * opsync-decide.php [FILE]: the engine contract from PHP, exactly like `opsync decide`.
 *
 * Reads the request from FILE (or standard input when FILE is absent or "-"), prints the
 * response and a newline on standard output, exits 0. An invalid request prints one line
 * on standard error naming the JSON path of the problem and exits 1; when no answer could
 * be had at all, one line says why and the exit status is 3.
 */

declare(strict_types=1);

require __DIR__ . '/../src/autoload.php';

use Opsync\Engine;
use Opsync\InvalidRequest;
use Opsync\OpsyncException;

$fail = static function (string $message, int $status): never {
    fwrite(STDERR, 'opsync: ' . str_replace(["\r", "\n"], ' ', $message) . "\n");
    exit($status);
};

$file = $argv[1] ?? '-';
$request = $file === '-' ? stream_get_contents(STDIN) : @file_get_contents($file);
if ($request === false) {
    $fail("$file: cannot be read", 3);
}

try {
    $response = (new Engine())->decide($request);
} catch (InvalidRequest $e) {
    $fail($e->getMessage(), 1);
} catch (OpsyncException $e) {
    $fail($e->getMessage(), 3);
}
fwrite(STDOUT, $response . "\n");
exit(0);
