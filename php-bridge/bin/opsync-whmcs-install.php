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
 *   a shim that runs the addon's cron.php, keeping the module's own file byte for byte as
 *   DomainSync.php.orig;
 * - include/opsync-preload.h (the library's path, for ffi.preload) and private/ (the
 *   Openprovider session, readable by its owner only).
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
foreach (['hooks.php', 'cron.php', 'delegate.php', 'preload.php'] as $file) {
    $copies[] = ["$bridge/whmcs/modules/addons/opsync/$file", "$addon/$file"];
}
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

if ($lib !== null) {
    // For a web server that preloads the engine (preload.php): where the library is.
    $preload = "$addon/include/opsync-preload.h";
    if (!$dryRun) {
        $header = (string) file_get_contents("$bridge/include/opsync.h");
        if (!is_dir(dirname($preload)) && !@mkdir(dirname($preload), 0755, true)) {
            $fail('cannot create ' . dirname($preload), 5);
        }
        if (@file_put_contents($preload, "#define FFI_SCOPE \"OPSYNC\"\n#define FFI_LIB \"$addon/lib/libopsync_php.so\"\n$header") === false) {
            $fail("cannot write $preload", 5);
        }
    }
    $say("- " . ($dryRun ? 'would write' : 'wrote') . " $preload (for ffi.preload, INSTALL.md)");
}
// The Openprovider session token is kept here, readable by its owner only; a web server
// that honours .htaccess serves nothing from it.
if (!$dryRun) {
    if (!is_dir("$addon/private") && !@mkdir("$addon/private", 0700, true)) {
        $fail("cannot create $addon/private", 5);
    }
    @file_put_contents("$addon/private/.htaccess", "Require all denied\nDeny from all\n");
}

// The module's own DomainSync.php, kept byte for byte (a later module version's too).
$existing = is_file($cron) ? (string) file_get_contents($cron) : null;
if ($existing !== null && !str_contains($existing, MARKER)) {
    $kept = "$cron.orig";
    for ($n = 2; is_file($kept) && (string) file_get_contents($kept) !== $existing; $n++) {
        $kept = "$cron.orig.$n";
    }
    if (is_file($kept)) {
        $say("- the Openprovider module's DomainSync.php is kept as $kept already; replaced it with opsync's again");
    } else {
        $say('- ' . ($dryRun ? 'would keep' : 'kept') . " the Openprovider module's DomainSync.php as $kept");
        if (!$dryRun && !@rename($cron, $kept)) {
            $fail("cannot rename $cron to $kept", 5);
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
$say("   php -q $addon/cron.php --dry-run");
$say("3. Schedule opsync's own entry point (an update of the Openprovider module does not touch it;");
$say('   a crontab that runs the old DomainSync.php keeps working until such an update), e.g.:');
$say("   */10 * * * * php -q $addon/cron.php");
$say("4. Switch WHMCS's own domain sync off (Setup > Automation Settings), or paste INSTALL.md's one line");
$say("   into the module's openprovider_Sync and openprovider_TransferSync: see $addon/INSTALL.md.");
$say('5. Optional, to plan on the admin page under PHP-FPM or Apache: preload the engine');
$say("   (INSTALL.md, \"The admin page under PHP-FPM or Apache\"); without it, the page hands plans to cron.");
exit(0);
