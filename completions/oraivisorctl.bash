# oraivisorctl(1) completion                                -*- shell-script -*-
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Commands and their options; instance names (-i) from the conf folder; upgrade names, decoded, from
# $DAEMON_HOME/oraivisor/upgrades; the plan's name from data/upgrade-info.json (prepare-upgrade); backup
# names (backups restore). The home is the one the command would use: --home, else DAEMON_HOME of
# /etc/oraivisor/NAME.conf with -i NAME, else $DAEMON_HOME. Needs bash only (not bash-completion's
# helpers): tests/completion/test-completion.sh runs it in a bare bash. Keep the command list and the
# options in step with src/oraivisorctl/oraivisorctl.c (that test compares them with --help).
# XXX: bash splits words at ':' (COMP_WORDBREAKS), so a name holding one completes only while the part
# typed has no ':' yet; joining the words as bash-completion's _get_comp_words_by_ref -n : does would lift it.

_oraivisorctl_commands="config init import-cosmovisor add-upgrade add-batch-upgrade check remove-upgrade prepare-upgrade list show-upgrade-info status backups version"

# The options a command takes besides the global ones.
_oraivisorctl_command_options() {
        case $1 in
        init | add-batch-upgrade) echo --force ;;
        add-upgrade) echo --force --height ;;
        prepare-upgrade) echo --info --json ;;
        backups\ restore) echo --switch-to ;;
        config | check | list | show-upgrade-info | status | backups | version) echo --json ;;
        esac
}

# The value of KEY in an EnvironmentFile= (FILE KEY): the last assignment, without its quotes. A
# simplified reading (no continuations), enough to find a folder.
_oraivisorctl_conf_value() {
        local line v="" re="^[[:blank:]]*$2[[:blank:]]*=[[:blank:]]*(.*)$"
        [[ -r $1 ]] || return 0
        while IFS= read -r line || [[ -n $line ]]; do
                [[ $line =~ $re ]] || continue
                v=${BASH_REMATCH[1]}
                v=${v%"${v##*[![:blank:]]}"}
                case $v in
                \"*\" | \'*\') v=${v:1:${#v}-2} ;;
                esac
        done <"$1"
        printf '%s' "$v"
}

# Percent-decodes an upgrade folder's name (v2%20final: "v2 final").
_oraivisorctl_decode() {
        local s=$1
        if [[ $s == *%[0-9A-Fa-f][0-9A-Fa-f]* ]]; then
                s=${s//\\/\\\\}
                printf '%b' "${s//%/\\x}"
        else
                printf '%s' "$s"
        fi
}

# Adds the words of "$@" that start with $cur to COMPREPLY, quoted for the command line.
_oraivisorctl_add_quoted() {
        local w q
        for w in "$@"; do
                printf -v q '%q' "$w"
                [[ $q == "$cur"* || $w == "$cur"* ]] && COMPREPLY+=("$q")
        done
}

_oraivisorctl() {
        local cur=${COMP_WORDS[COMP_CWORD]} prev="" i w
        local instance="" home="" name="" command="" verb=""
        local -a args=()
        local globals="-i --instance --home --name -h --help --version"

        # bash splits "--home=PATH" at '=': the option before an '=' is the one whose value is typed.
        if [[ $cur == = ]]; then
                prev=${COMP_WORDS[COMP_CWORD - 1]}
                cur=""
        elif ((COMP_CWORD >= 2)) && [[ ${COMP_WORDS[COMP_CWORD - 1]} == = ]]; then
                prev=${COMP_WORDS[COMP_CWORD - 2]}
        elif ((COMP_CWORD >= 1)); then
                prev=${COMP_WORDS[COMP_CWORD - 1]}
        fi

        # What is already on the line: options with their values, the command, its arguments.
        for ((i = 1; i < COMP_CWORD; i++)); do
                w=${COMP_WORDS[i]}
                case $w in
                -i | --instance | --home | --name | --info | --switch-to | --height)
                        local opt=$w val=""
                        if ((i + 1 < COMP_CWORD)) && [[ ${COMP_WORDS[i + 1]} == = ]]; then
                                ((i += 2))
                        else
                                ((i += 1))
                        fi
                        ((i < COMP_CWORD)) && val=${COMP_WORDS[i]}
                        case $opt in
                        -i | --instance) instance=$val ;;
                        --home) home=$val ;;
                        --name) name=$val ;;
                        esac
                        ;;
                -i?*) instance=${w#-i} ;;
                -*) ;;
                *)
                        if [[ -z $command ]]; then
                                command=$w
                        else
                                args+=("$w")
                        fi
                        ;;
                esac
        done
        [[ $command == backups && ${args[0]-} == restore ]] && verb=restore

        # Where the node lives, as the command would see it.
        local conf_dir=${ORAIVISORCTL_CONF_DIR:-/etc/oraivisor} conf="" backup_dir=""
        if [[ -n $instance ]]; then
                conf="$conf_dir/$instance.conf"
                [[ -n $home ]] || home=$(_oraivisorctl_conf_value "$conf" DAEMON_HOME)
                [[ -n $name ]] || name=$(_oraivisorctl_conf_value "$conf" DAEMON_NAME)
                [[ -n $name ]] || name=$instance
                backup_dir=$(_oraivisorctl_conf_value "$conf" DAEMON_DATA_BACKUP_DIR)
        else
                [[ -n $home ]] || home=${DAEMON_HOME-}
                [[ -n $name ]] || name=${DAEMON_NAME-}
                backup_dir=${DAEMON_DATA_BACKUP_DIR-}
        fi
        [[ $home == "~"* ]] && home=$HOME${home#\~}
        [[ -n $backup_dir ]] || backup_dir=$home

        COMPREPLY=()
        local -a upgrades=()
        if [[ -n $home && -d $home/oraivisor/upgrades ]]; then
                local d
                for d in "$home"/oraivisor/upgrades/*/; do
                        [[ -d $d ]] || continue
                        d=${d%/}
                        upgrades+=("$(_oraivisorctl_decode "${d##*/}")")
                done
        fi

        # The value of an option.
        case $prev in
        -i | --instance)
                local -a names=()
                local f
                for f in "$conf_dir"/*.conf; do
                        [[ -f $f ]] || continue
                        f=${f##*/}
                        names+=("${f%.conf}")
                done
                _oraivisorctl_add_quoted "${names[@]}"
                return 0
                ;;
        --home)
                compopt -o filenames 2>/dev/null
                mapfile -t COMPREPLY < <(compgen -d -- "$cur")
                return 0
                ;;
        --name | --info | --height)
                return 0
                ;;
        --switch-to)
                _oraivisorctl_add_quoted genesis "${upgrades[@]}"
                return 0
                ;;
        esac

        if [[ $cur == -* ]]; then
                local opts=$globals
                [[ -n $command ]] && opts+=" $(_oraivisorctl_command_options "$command${verb:+ $verb}")"
                mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
                return 0
        fi

        if [[ -z $command ]]; then
                mapfile -t COMPREPLY < <(compgen -W "$_oraivisorctl_commands" -- "$cur")
                return 0
        fi

        # The command's arguments: which one is being typed.
        local n=${#args[@]}
        case $command in
        init | add-batch-upgrade)
                ((n == 0)) && { compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- "$cur"); }
                ;;
        add-upgrade)
                if ((n == 0)); then
                        _oraivisorctl_add_quoted "${upgrades[@]}"
                elif ((n == 1)); then
                        compopt -o filenames 2>/dev/null
                        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
                fi
                ;;
        remove-upgrade)
                ((n == 0)) && _oraivisorctl_add_quoted "${upgrades[@]}"
                ;;
        check)
                ((n == 0)) && _oraivisorctl_add_quoted genesis "${upgrades[@]}"
                ;;
        prepare-upgrade)
                # The plan the node wrote, when there is one.
                local plan="" re='"name"[[:space:]]*:[[:space:]]*"([^"\\]*)"'
                if ((n == 0)) && [[ -r $home/data/upgrade-info.json ]] &&
                        [[ $(head -c 65536 "$home/data/upgrade-info.json") =~ $re ]]; then
                        plan=${BASH_REMATCH[1]}
                        _oraivisorctl_add_quoted "$plan"
                fi
                ;;
        backups)
                if ((n == 0)); then
                        mapfile -t COMPREPLY < <(compgen -W "restore" -- "$cur")
                elif [[ $verb == restore ]] && ((n == 1)) && [[ -n $backup_dir ]]; then
                        # This node's backups (as src/core/backup-name.h tells them apart): tagged
                        # data-backup-<name, cut to 32 bytes>@<hash>-…, and in its own home the untagged ones
                        # of earlier versions; never a .partial- one (a dot file).
                        local -a backups=()
                        local b
                        for b in "$backup_dir"/data-backup-*/; do
                                [[ -d $b ]] || continue
                                b=${b%/}
                                b=${b##*/}
                                if [[ -z $name || $b == "data-backup-${name:0:32}@"* ||
                                        ($b != *@* && ${backup_dir%/} == "${home%/}") ]]; then
                                        backups+=("$b")
                                fi
                        done
                        _oraivisorctl_add_quoted "${backups[@]}"
                fi
                ;;
        esac
        return 0
}

complete -F _oraivisorctl oraivisorctl
