# SPDX-License-Identifier: MIT
# bash completion for tattach and tread.
#
# Installed as share/bash-completion/completions/tattach and .../tread (the
# same file under both names: bash-completion loads the file named after
# the command).  Works without bash-completion too: source it.
#
# The options are read from the program's own --help, so the completion
# never offers an option the program lacks, nor misses a new one.

# Long options of program $1, from the option lines of its --help
# ("  -p, --pid PID ..." and "      --report ...": the option starts in
# column 7; a description's continuation line that starts with an option
# name, "                         --enable without it...", is not one).
_tattach_long_options()
{
	"$1" --help 2>/dev/null |
		sed -n 's/^  \(-[a-zA-Z0-9], \|    \)\(--[a-zA-Z][a-zA-Z0-9-]*\).*/\2/p'
}

# Libraries loaded by the process of the command line's -p PID, by file
# name (what --module takes): its executable mappings but the program's.
_tattach_modules()
{
	local i pid exe maps perms path
	for ((i = 1; i < COMP_CWORD - 1; i++)); do
		case ${COMP_WORDS[i]} in
		-p | --pid) pid=${COMP_WORDS[i + 1]} ;;
		esac
	done
	[[ $pid =~ ^[0-9]+$ ]] || return 0
	maps=$(cat "/proc/$pid/maps" 2>/dev/null) || return 0	# not ours to trace
	exe=$(readlink "/proc/$pid/exe" 2>/dev/null)
	while read -r _ perms _ _ _ path; do
		if [[ $perms == *x* && $path == /* && $path != "$exe" ]]; then
			printf '%s\n' "${path##*/}"
		fi
	done <<<"$maps" | sort -u
}

# Processes the user may trace: all for root, else the user's own; not
# kernel threads (they have no executable).
_tattach_pids()
{
	local d
	for d in /proc/[0-9]*; do
		if [[ ($EUID -eq 0 || -O $d) && -e $d/exe ]]; then
			printf '%s\n' "${d#/proc/}"
		fi
	done
}

# Processes that have a ring file (traced now or before): for tread -p.
_tattach_ring_pids()
{
	local f dir=${TATTACH_RING_DIR:-/dev/shm}
	for f in "$dir"/tattach-*.ring; do
		[[ -e $f ]] || continue
		f=${f##*/tattach-}
		printf '%s\n' "${f%.ring}"
	done
}

_tattach_files()
{
	if declare -F _filedir >/dev/null; then
		_filedir
	else
		local IFS=$'\n'
		COMPREPLY=($(compgen -f -- "$1"))
	fi
}

_tattach()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]} i

	# After "--", the words are a command and its arguments.
	for ((i = 1; i < COMP_CWORD; i++)); do
		if [[ ${COMP_WORDS[i]} == -- ]]; then
			if ((COMP_CWORD == i + 1)); then
				COMPREPLY=($(compgen -c -- "$cur"))
			elif declare -F _command_offset >/dev/null; then
				_command_offset $((i + 1))
			else
				_tattach_files "$cur"
			fi
			return 0
		fi
	done

	case $prev in
	-p | --pid)
		COMPREPLY=($(compgen -W "$(_tattach_pids)" -- "$cur"))
		return 0
		;;
	-m | --mode)
		COMPREPLY=($(compgen -W "discard flight stats" -- "$cur"))
		return 0
		;;
	-c | --clock)
		COMPREPLY=($(compgen -W "tsc mono" -- "$cur"))
		return 0
		;;
	-b | --buffer-size)
		COMPREPLY=($(compgen -W "64K 256K 1M 4M 16M" -- "$cur"))
		return 0
		;;
	-t | --max-threads)
		COMPREPLY=($(compgen -W "64 128 256 512 1024" -- "$cur"))
		return 0
		;;
	-o | --output)
		_tattach_files "$cur"
		return 0
		;;
	--module)
		COMPREPLY=($(compgen -W "$(_tattach_modules)" -- "$cur"))
		return 0
		;;
	-F | --filter | -N | --notrace | --max-depth | -A | --args | -R | --retval)
		return 0	# a pattern or a number: nothing to offer
		;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_tattach_long_options "${COMP_WORDS[0]}") --" -- "$cur"))
	fi
	return 0
}

_tread()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}

	case $prev in
	-p | --pid)
		COMPREPLY=($(compgen -W "$(_tattach_ring_pids)" -- "$cur"))
		return 0
		;;
	-i | --input | -o | --output | --save | --html)
		_tattach_files "$cur"
		return 0
		;;
	--time)
		COMPREPLY=($(compgen -W "abs tod mono rel delta none" -- "$cur"))
		return 0
		;;
	--export)
		COMPREPLY=($(compgen -W "chrome folded flamegraph uftrace ctf" -- "$cur"))
		return 0
		;;
	-s | --sort)
		COMPREPLY=($(compgen -W "calls total self avg max name" -- "$cur"))
		return 0
		;;
	--tid | -F | --filter | -N | --notrace | -D | --depth | -n | \
	--min-duration | --since | --until | --older-than)
		return 0	# a value only the user knows
		;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_tattach_long_options "${COMP_WORDS[0]}")" -- "$cur"))
	fi
	return 0
}

complete -F _tattach tattach
complete -F _tread tread
