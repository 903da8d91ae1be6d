#!/usr/bin/env php
<?php

/**
 * opsync-whmcs-install.php WHMCS_ROOT [--lib PATH] [--dry-run]
 *
 * Installs the opsync drop-in into a WHMCS installation:
 * - the addon (settings, admin page, hook, the PHP classes and the engine library) into
 *   WHMCS_ROOT/modules/addons/opsync/, outside the Openprovider module, which a module
 *   update replaces;
 * - DomainSync.php at the old cron's path, WHMCS_ROOT/modules/registrars/openprovider/cron/,
 *   keeping the file that was there as DomainSync.php.orig.
 * Prints what it did and what is left to do by hand. With --dry-run it only says what it
 * would do. Exit status: 0 done, 2 a bad command line or a folder that is no WHMCS root,
 * 5 a file could not be written.
 */

declare(strict_types=1);

const MARKER = "opsync, at the path of the Openprovider module's old DomainSync.php cron";

$fail = static function (string $message, int $status): never {
    fwrite(STDERR, 'opsync-whmcs-install: ' . $message . "\n");
    exit($status);
};

$root = null;
$lib = null;
$dryRun = false;
$args = array_slice($argv, 1);
for ($i = 0; $i < count($args); $i++) {
    $arg = $args[$i];
    if ($arg === '--dry-run') {
        $dryRun = true;
    } elseif ($arg === '--lib') {
        $lib = $args[++$i] ?? $fail('--lib needs the path of libopsync_php.so', 2);
    } elseif ($arg === '--help' || $arg === '-h') {
        fwrite(STDOUT, "Usage: php opsync-whmcs-install.php WHMCS_ROOT [--lib PATH] [--dry-run]\n");
        exit(0);
    } elseif (str_starts_with($arg, '-') || $root !== null) {
        $fail("unknown argument \"$arg\" (usage: WHMCS_ROOT [--lib PATH] [--dry-run])", 2);
    } else {
        $root = rtrim($arg, '/');
    }
}
if ($root === null) {
    $fail('which WHMCS? Usage: php opsync-whmcs-install.php WHMCS_ROOT [--lib PATH] [--dry-run]', 2);
}
if (!is_file("$root/init.php")) {
    $fail("$root is not a WHMCS root: it has no init.php", 2);
}

$bridge = dirname(__DIR__);
$repository = dirname($bridge);
if ($lib === null) {
    foreach (["$repository/target/release/libopsync_php.so", "$repository/target/debug/libopsync_php.so"] as $built) {
        if (is_file($built)) {
            $lib = $built;
            break;
        }
    }
} elseif (!is_file($lib)) {
    $fail("--lib $lib: no such file", 2);
}

$addon = "$root/modules/addons/opsync";
$cron = "$root/modules/registrars/openprovider/cron/DomainSync.php";

/** @var list<array{0: string, 1: string}> $copies source => target */
$copies = [];
$tree = static function (string $from, string $to) use (&$copies): void {
    $files = new RecursiveIteratorIterator(new RecursiveDirectoryIterator($from, FilesystemIterator::SKIP_DOTS));
    foreach ($files as $file) {
        $copies[] = [$file->getPathname(), $to . substr($file->getPathname(), strlen($from))];
    }
};
$tree("$bridge/src", "$addon/src");
$copies[] = ["$bridge/include/opsync.h", "$addon/include/opsync.h"];
$copies[] = ["$bridge/whmcs/modules/addons/opsync/opsync.php", "$addon/opsync.php"];
$copies[] = ["$bridge/whmcs/modules/addons/opsync/hooks.php", "$addon/hooks.php"];
$copies[] = ["$bridge/INSTALL.md", "$addon/INSTALL.md"];
if ($lib !== null) {
    $copies[] = [$lib, "$addon/lib/libopsync_php.so"];
}
usort($copies, static fn (array $a, array $b): int => strcmp($a[1], $b[1]));

$did = $dryRun ? 'would copy' : 'copied';
$say = static fn (string $line) => fwrite(STDOUT, $line . "\n");
$say(($dryRun ? 'Dry run: nothing is written. ' : '') . "Installing opsync into $root");

$write = static function (string $from, string $to) use ($dryRun, $fail): void {
    if ($dryRun) {
        return;
    }
    if (!is_dir(dirname($to)) && !@mkdir(dirname($to), 0755, true)) {
        $fail('cannot create ' . dirname($to), 5);
    }
    if (!@copy($from, $to)) {
        $fail("cannot write $to", 5);
    }
};

foreach ($copies as [$from, $to]) {
    $write($from, $to);
}
$say("- $did the opsync addon (" . count($copies) . " files) into $addon");

$existing = is_file($cron) ? (string) file_get_contents($cron) : null;
if ($existing !== null && !str_contains($existing, MARKER)) {
    if (is_file("$cron.orig")) {
        $say("- kept $cron.orig from an earlier install; the DomainSync.php found there now is replaced");
    } else {
        $say('- ' . ($dryRun ? 'would keep' : 'kept') . " the Openprovider module's DomainSync.php as $cron.orig");
        if (!$dryRun && !@rename($cron, "$cron.orig")) {
            $fail("cannot rename $cron to $cron.orig", 5);
        }
    }
}
$write("$bridge/whmcs/modules/registrars/openprovider/cron/DomainSync.php", $cron);
$say("- $did opsync's DomainSync.php to $cron");
if ($lib === null) {
    $say('- no libopsync_php.so was given or built (--lib PATH): the addon will run the opsync command '
        . 'instead (put it on the PATH of the cron user, or set OPSYNC_BIN)');
}

$say('');
$say('Left to do by hand:');
$say('1. In WHMCS: Setup > Addon Modules > opsync > Activate, then Configure (empty settings follow');
$say("   the Openprovider module's advanced configuration) and give your admin role access.");
$say('2. Look first: Addons > opsync > Plan, or:');
$say("   php -q $cron --dry-run");
$say('3. Schedule it (the old crontab line keeps working), e.g. every 10 minutes:');
$say("   */10 * * * * php -q $cron");
$say("4. Switch WHMCS's own domain sync off (Setup > Automation Settings), or delegate the module's");
$say("   openprovider_Sync to opsync: see $addon/INSTALL.md.");
exit(0);
